"""Exponential backoff for transient failures: a dropped connection, a serialization failure."""

from __future__ import annotations

import logging
import time
from typing import Callable, TypeVar

import psycopg
from pymongo.errors import AutoReconnect, ConnectionFailure

from etl.errors import RetryableError, ServiceUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

# Connection exceptions, serialization failures, deadlocks, lock timeouts, server shutdown,
# too many connections: another attempt may well succeed.
_TRANSIENT_STATES = ("40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300")
_OTHERS = (ServiceUnavailable, RetryableError, AutoReconnect, ConnectionFailure)


def is_transient(exc: BaseException) -> bool:
    """True for failures that another attempt may not meet.

    A psycopg error without an SQLSTATE is the connection itself failing; with one, only
    the states above are transient (a program limit such as too many columns is not).
    """
    if isinstance(exc, psycopg.Error):
        state = exc.sqlstate
        if state is None:
            return isinstance(exc, psycopg.OperationalError)
        return state.startswith("08") or state in _TRANSIENT_STATES
    return isinstance(exc, _OTHERS)


def with_retries(work: Callable[[], T], what: str, attempts: int = 4, base_delay: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> T:
    """Run `work` (a whole transaction), retrying transient failures with exponential backoff."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except Exception as exc:  # noqa: BLE001 - filtered just below, re-raised when not transient
            if not is_transient(exc) or attempt == attempts:
                raise
            delay = base_delay * 2 ** (attempt - 1)
            log.warning("%s: transient failure (%s); retry %d/%d in %.1fs",
                        what, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                        attempt, attempts - 1, delay)
            sleep(delay)
    raise AssertionError("unreachable")
