"""What runs after a pipeline run: anomaly flags for the run, then gold freshness.

`watch_run` is the one call for the end of `medallion run` and for the last task of the
DAG that builds gold. With `best_effort=True` (the CLI run) a failure of either part is
logged with its traceback and reported, and never fails the run whose outcome it follows;
without it (a DAG task) the error propagates so the task fails visibly and is retried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from etl.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass
class WatchReport:
    """What the watch found: the run's anomalies, the gold tables' freshness, and the
    parts that failed (part name -> error)."""

    run_id: str | None
    anomalies: list = field(default_factory=list)
    freshness: list = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def stale_tables(self) -> list:
        return [t for t in self.freshness if t.is_stale]

    def format(self) -> str:
        lines = [f"{len(self.anomalies)} anomal{'y' if len(self.anomalies) == 1 else 'ies'}"
                 f", {len(self.stale_tables)} stale gold table(s) of {len(self.freshness)}"]
        lines += [f"  anomaly: {a.describe()}" for a in self.anomalies]
        lines += [f"  stale: {t.describe()}" for t in self.stale_tables]
        lines += [f"  {part} failed: {error}" for part, error in self.errors.items()]
        return "\n".join(lines)


def watch_run(run_id: str | None = None, *, settings: Settings | None = None,
              now: datetime | None = None, best_effort: bool = False) -> WatchReport:
    """Detect the run's anomalies (default: the latest run of each series) and check gold
    freshness, alerting each new finding once."""
    from etl.observability import anomalies, freshness

    settings = settings or get_settings()
    report = WatchReport(run_id)
    parts = (("anomalies", lambda: anomalies.detect(run_id, settings)),
             ("freshness", lambda: freshness.check_freshness(now=now, settings=settings)))
    for name, part in parts:
        try:
            setattr(report, name, part())
        except Exception as exc:
            if not best_effort:
                raise
            # Watching must not fail the run it follows; the failure is logged in full.
            log.exception("%s check after run %s failed; the run's outcome stands", name, run_id)
            report.errors[name] = f"{type(exc).__name__}: {exc}"
    return report


def watch_latest(*, settings: Settings | None = None) -> WatchReport:
    """The monitor's round (dag_5): the latest value of every series, whichever DAG or command
    recorded it, and gold freshness. Takes no run id on purpose: the monitor's own run has no
    values to judge."""
    return watch_run(None, settings=settings)
