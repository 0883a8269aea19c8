"""`medallion run`: the whole pipeline once, in the same order as the Airflow chain.

init -> ingest (register + load CSV + load JSON) -> bronze checks -> silver ->
silver checks (the critical gate) -> gold -> KPI snapshot -> gold checks. A critical silver
failure keeps gold from being rebuilt: the previous gold stays, and the run
fails with the names of the failing checks. Each step is recorded in
ops.pipeline_runs through etl.runs, like a DAG run. After the run, failed or not,
anomalies and gold freshness are checked and alerted (etl.observability.watch), best
effort: that never changes the run's outcome.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from etl import runs, schema
from etl.errors import QualityGateFailed
from etl.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    """What one `medallion run` did, step by step."""

    run_id: str
    steps: list[tuple[str, Any]] = field(default_factory=list)
    status: str = "running"
    error: str | None = None

    def add(self, name: str, result: Any) -> None:
        self.steps.append((name, result))


def run(raw_dir: Path | None = None, *, full_refresh: bool = False, checks: bool | None = None,
        settings: Settings | None = None, run_id: str | None = None,
        echo: Callable[[str], None] | None = None) -> RunReport:
    """Run the whole pipeline once; raises QualityGateFailed when a critical silver check fails."""
    from etl import transform
    from etl.ingest import ingest
    from etl.observability import changes

    settings = settings or get_settings()
    checks = settings.enable_data_quality_checks if checks is None else checks
    echo = echo or (lambda text: None)
    report = RunReport(run_id or runs.new_run_id())
    rid = report.run_id
    # The schema must exist before the run can be recorded in ops.pipeline_runs.
    started = datetime.now(timezone.utc)
    report.add("create_schemas", schema.init(settings))
    runs.start_run(rid, trigger="cli", started_at=started, settings=settings)
    runs.record_task(rid, "create_schemas", "success", started_at=started, settings=settings)

    def step(name: str, func: Callable[[], Any], layer: str | None = None) -> Any:
        started = datetime.now(timezone.utc)
        try:
            result = func()
        except Exception as exc:
            runs.record_task(rid, name, "failed", layer=layer, started_at=started, error=str(exc),
                             settings=settings)
            raise
        runs.record_task(rid, name, "success", layer=layer, rows=runs.rows_of(result),
                         started_at=started, settings=settings)
        report.add(name, result)
        formatted = _format(result)
        if formatted:
            echo(f"\n== {name}\n{formatted}")
        return result

    try:
        step("ingest_files", lambda: ingest(raw_dir, run_id=rid, settings=settings),
             "bronze")
        if checks:
            step("check_bronze", lambda: _checks("bronze", rid, settings, gate=False))
        step("build_silver", lambda: transform.build_silver(full_refresh=full_refresh, run_id=rid,
                                                             settings=settings), "silver")
        if checks:
            step("check_silver", lambda: _checks("silver", rid, settings, gate=True))
        step("build_gold", lambda: transform.build_gold(full_refresh=full_refresh, run_id=rid,
                                                         settings=settings), "gold")
        # gold.kpi_summary is rebuilt by every run: keep this run's KPIs to compare runs.
        step("snapshot_kpis", lambda: changes.snapshot_kpis(rid, settings=settings))
        if checks:
            step("check_gold", lambda: _checks("gold", rid, settings, gate=False))
    except Exception as exc:
        report.status, report.error = "failed", str(exc)
        runs.finish_run(rid, "failed", error=str(exc), settings=settings)
        _watch(report, settings, echo)
        raise
    report.status = "success"
    runs.finish_run(rid, "success", settings=settings)
    _watch(report, settings, echo)
    return report


def _watch(report: RunReport, settings: Settings, echo: Callable[[str], None]) -> None:
    """Anomalies and freshness after the run, failed or not (a failed gate is often the
    anomaly); best effort: a failure here is logged and never changes the run's outcome."""
    from etl.observability import watch

    result = watch.watch_run(report.run_id, settings=settings, best_effort=True)
    report.add("watch", result)
    echo(f"\n== watch\n{result.format()}")


def _checks(layer: str, run_id: str, settings: Settings, gate: bool):
    from etl import quality

    return quality.run_checks(layer, run_id=run_id, gate=gate, settings=settings)


def _format(result: Any) -> str:
    from etl.ingest.command import render
    from etl.ingest.report import IngestReport

    if isinstance(result, IngestReport):
        return render(result)
    if result is None or isinstance(result, list):
        return ""
    if hasattr(result, "format"):
        return result.format()
    return ""


def main(args) -> int:
    """CLI handler of `medallion run`."""
    report_lines: list[str] = []

    def echo(text: str) -> None:
        print(text, flush=True)
        report_lines.append(text)

    try:
        report = run(args.raw_dir, full_refresh=args.full_refresh,
                     checks=False if args.skip_checks else None, echo=echo)
    except QualityGateFailed as exc:
        print(f"\nrun failed: a critical silver check failed, so gold was not rebuilt "
              f"(the previous gold stays).\n{exc}", file=sys.stderr)
        return 4
    print(f"\nrun {report.run_id}: {report.status}")
    return 0
