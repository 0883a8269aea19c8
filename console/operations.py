"""Operator actions of issue 16, audited the way `console.actions` audits its own: the audit
row is written ahead (an action whose row cannot be written is not taken), then closed
with the outcome. Each action returns an `actions.ActionResult` the page shows as it is.
"""

from __future__ import annotations

import logging

from console.actions import ActionResult, _audited
from console.data import observability, reader

log = logging.getLogger(__name__)


def acknowledge_anomaly(actor: str, anomaly_id: int, label: str) -> ActionResult:
    """Close an open anomaly on `actor`'s word, audited."""

    def act() -> tuple[bool, str]:
        try:
            done = observability.acknowledge(anomaly_id, actor)
        except reader.DataUnavailable as exc:
            return False, str(exc)
        if not done:
            return False, f"Anomaly #{anomaly_id} ({label}) was already closed."
        return True, f"Acknowledged: {label}."

    return _audited(actor, "acknowledge_anomaly", f"anomaly/{int(anomaly_id)}",
                    {"anomaly_id": int(anomaly_id), "label": label}, act)
