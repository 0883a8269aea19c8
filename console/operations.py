"""Operator actions of issue 16, audited like `console.actions`: acknowledge an anomaly.

Each action returns an `actions.ActionResult` the page shows as it is, and writes one row
to ops.console_audit (actor, action, target, params, outcome) whatever the outcome.
"""

from __future__ import annotations

import logging

from console import data
from console.actions import ActionResult
from console.data import observability

log = logging.getLogger(__name__)


def acknowledge_anomaly(actor: str, anomaly_id: int, label: str) -> ActionResult:
    """Close an open anomaly on `actor`'s word, audit it."""
    target = f"anomaly/{int(anomaly_id)}"
    params = {"anomaly_id": int(anomaly_id), "label": label}
    try:
        done = observability.acknowledge(anomaly_id, actor)
    except data.DataUnavailable as exc:
        return audit(actor, "acknowledge_anomaly", target, params, False, "failure", str(exc))
    if not done:
        return audit(actor, "acknowledge_anomaly", target, params, False, "rejected",
                     f"Anomaly #{anomaly_id} ({label}) was already closed.")
    return audit(actor, "acknowledge_anomaly", target, params, True, "success",
                 f"Acknowledged: {label}.")


def audit(actor: str, action: str, target: str, params: dict, ok: bool, outcome: str,
          message: str) -> ActionResult:
    """Write the audit row of an action and return its result (the audit failing is said)."""
    log.info("console action %s on %s by %s: %s", action, target, actor, outcome)
    try:
        audit_id = data.record_action(actor, action, target, params, outcome, message)
    except data.DataUnavailable as exc:
        log.error("console action %s on %s not audited: %s", action, target, exc)
        return ActionResult(ok, outcome, message, None, str(exc))
    return ActionResult(ok, outcome, message, audit_id)
