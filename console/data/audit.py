"""The console's own audit trail in `ops.console_audit`: record an action, list recent ones."""

from __future__ import annotations

import json
import logging

import pandas as pd
from sqlalchemy import text

from console.data.reader import Query, read_ops, write

log = logging.getLogger(__name__)

AUDIT_INSERT = Query("audit_insert", text("""
    insert into ops.console_audit (actor, action, target, params, outcome, detail)
    values (:actor, :action, :target, cast(:params as jsonb), :outcome, :detail)
    returning audit_id
"""))

AUDIT_RECENT = Query("audit_recent", text("""
    select audit_id, acted_at, actor, action, target, params, outcome, detail
    from ops.console_audit
    order by acted_at desc, audit_id desc
    limit :limit
"""))


def record_action(actor: str, action: str, target: str, params: dict, outcome: str,
                  detail: str) -> int:
    """Write one console action to ops.console_audit; returns its audit_id."""
    audit_id = write(AUDIT_INSERT, actor=actor, action=action, target=target,
                     params=json.dumps(params, default=str), outcome=outcome,
                     detail=detail[:4000])
    log.info("audit %s: %s %s %s -> %s", audit_id, actor, action, target, outcome)
    return int(audit_id)


def recent_actions(limit: int = 50) -> pd.DataFrame:
    """The latest console actions, newest first."""
    return read_ops(AUDIT_RECENT, limit=limit)
