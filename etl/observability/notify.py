"""What counts as an alert delivered, for the observability alerts that must go out once."""

from __future__ import annotations

from etl.alerts import AlertResult


def delivered(result: AlertResult) -> bool:
    """False only when a channel is configured and every configured channel failed: the
    alert is then released and retried by the next evaluation. With no channel configured
    there is nobody to tell, and the alert counts as done (it is not replayed later)."""
    outcomes = [o for o in (result.email, result.slack) if o is not None]
    return not outcomes or any(outcomes)
