"""The console's own audit trail in `ops.console_audit`: the recent actions (written ahead by
`console.data.records`)."""

from __future__ import annotations

import logging

import pandas as pd
from sqlalchemy import text

from console.data.reader import Query, read_ops

log = logging.getLogger(__name__)

AUDIT_RECENT = Query("audit_recent", text("""
    select audit_id, acted_at, actor, action, target, params, outcome, detail
    from ops.console_audit
    order by acted_at desc, audit_id desc
    limit :limit
"""))


def recent_actions(limit: int = 50) -> pd.DataFrame:
    """The latest console actions, newest first."""
    return read_ops(AUDIT_RECENT, limit=limit)
