"""The console's own records in ops: sign-in attempts and the action audit, written ahead.

Not cached and not pooled: these writes are rare, each is its own short
transaction, and a write that fails must say so (`RecordUnavailable`) so the
caller can refuse the action it was about to take.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

import psycopg

from etl import db
from etl.errors import ServiceUnavailable

log = logging.getLogger(__name__)

MAX_DETAIL_CHARS = 4000

_INSERT_SIGN_IN = """
    insert into ops.console_signins (user_name, client_address, forwarded_for, outcome, failures,
                                     locked_until)
    values (%s, %s, %s, %s, %s, %s)
    returning signin_id
"""
_OPEN_ACTION = """
    insert into ops.console_audit (actor, action, target, params, outcome, detail)
    values (%s, %s, %s, %s::jsonb, 'pending', null)
    returning audit_id
"""
_CLOSE_ACTION = """
    update ops.console_audit
    set outcome = %s, detail = %s, finished_at = now(), params = coalesce(%s::jsonb, params)
    where audit_id = %s and outcome = 'pending'
    returning audit_id
"""
_RECORD_REJECTED = """
    insert into ops.console_audit (actor, action, target, params, outcome, detail, finished_at)
    values (%s, %s, %s, %s::jsonb, 'rejected', %s, now())
    returning audit_id
"""


_STATEMENTS = {
    "sign_in": _INSERT_SIGN_IN,
    "open_action": _OPEN_ACTION,
    "close_action": _CLOSE_ACTION,
    "rejected": _RECORD_REJECTED,
}


class RecordUnavailable(ServiceUnavailable):
    """A console record could not be written; the message says why."""


def _write(name: str, params: tuple) -> int | None:
    """Run the statement `name` of _STATEMENTS in its own transaction; the id it returns."""
    try:
        with db.transaction() as conn:
            row = conn.execute(_STATEMENTS[name], params).fetchone()
    except ServiceUnavailable as exc:
        raise RecordUnavailable(str(exc)) from exc
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RecordUnavailable(f"the database refused the record ({first}); "
                                "run `medallion init` if the console tables are missing") from exc
    return None if row is None else int(row[0])


def record_sign_in(user_name: str, client_address: str, forwarded_for: str | None, outcome: str,
                   failures: int, locked_until: datetime | None) -> int:
    """One sign-in attempt (success | refused | locked) in ops.console_signins; returns its id."""
    signin_id = _write("sign_in", (user_name, client_address, forwarded_for, outcome,
                                         failures, locked_until))
    log.info("sign-in %s: %r from %s -> %s", signin_id, user_name, client_address, outcome)
    return signin_id


def open_action(actor: str, action: str, target: str, params: dict) -> int:
    """Write the audit row of an action about to be taken (outcome 'pending'); returns its id."""
    audit_id = _write("open_action", (actor, action, target, json.dumps(params, default=str)))
    log.info("audit %s opened: %s %s %s", audit_id, actor, action, target)
    return audit_id


def close_action(audit_id: int, outcome: str, detail: str, params: dict | None = None) -> None:
    """Record what the action came to (success | failure) on its pending audit row.

    `params`, when given, replace the row's (the action may report what it did,
    such as the tasks it cleared).
    """
    new_params = None if params is None else json.dumps(params, default=str)
    if _write("close_action", (outcome, detail[:MAX_DETAIL_CHARS], new_params, audit_id)) is None:
        raise RecordUnavailable(f"audit row {audit_id} is no longer pending")
    log.info("audit %s closed: %s", audit_id, outcome)


def record_rejected(actor: str, action: str, target: str, params: dict, detail: str) -> int:
    """An action refused before anything was sent (invalid input), in one row."""
    return _write("rejected", (actor, action, target, json.dumps(params, default=str),
                                     detail[:MAX_DETAIL_CHARS]))
