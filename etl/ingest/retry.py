"""Exponential backoff for transient failures: a dropped connection, a serialization failure."""

from __future__ import annotations

import logging
import time
from typing import Callable, TypeVar

import psycopg
from psycopg import errors as pgerrors
from pymongo.errors import AutoReconnect, ConnectionFailure

from etl.errors import RetryableError, ServiceUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

TRANSIENT = (psycopg.OperationalError, pgerrors.SerializationFailure, pgerrors.DeadlockDetected,
             pgerrors.LockNotAvailable, ServiceUnavailable, RetryableError, AutoReconnect,
             ConnectionFailure)


def is_transient(exc: BaseException) -> bool:
    """True for failures that another attempt may not meet."""
    return isinstance(exc, TRANSIENT)


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
