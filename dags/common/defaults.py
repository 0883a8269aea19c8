"""Arguments and callbacks every DAG shares: owner, retries with backoff, alerts, run metrics.

`MEDALLION_RETRY_DELAY_SECONDS` (default 300) sets the first retry delay; tests
set it short. Read at import on purpose: it is part of the DAG's definition.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

log = logging.getLogger(__name__)

OWNER = "data-engineering"
TAGS = ["medallion"]


def retry_delay() -> timedelta:
    """The first retry's delay (5 minutes unless MEDALLION_RETRY_DELAY_SECONDS says otherwise)."""
    return timedelta(seconds=float(os.environ.get("MEDALLION_RETRY_DELAY_SECONDS", "300")))


def ingest_schedule() -> str | None:
    """dag_2's schedule: MEDALLION_INGEST_SCHEDULE (cron or preset, `none` = manual), default @daily."""
    value = os.environ.get("MEDALLION_INGEST_SCHEDULE", "@daily").strip()
    return None if value.lower() in ("", "none", "manual") else value


def _record(context, state: str, error: str | None = None) -> None:
    """Record the task attempt's final state; a recording failure is logged, never raised."""
    from etl import runs

    from dags.common.runtime import run_ids

    ti = context["ti"]
    run_id, dag_id, dag_run_id = run_ids(context)
    try:
        runs.start_run(run_id, "airflow", dag_id, dag_run_id)
        runs.record_task(run_id, ti.task_id, state, try_number=ti.try_number,
                         started_at=getattr(ti, "start_date", None), error=error,
                         hostname=getattr(ti, "hostname", None))
    except Exception:  # noqa: BLE001 - metrics must not change the task's outcome
        log.exception("could not record %s of %s in ops.task_runs", state, ti.task_id)


def on_task_success(context) -> None:
    _record(context, "success")


def on_task_retry(context) -> None:
    exc = context.get("exception")
    _record(context, "up_for_retry", str(exc) if exc else None)


def on_task_failure(context) -> None:
    """After the last try (or a terminal error): record it, then email and Slack."""
    from etl.alerts import Alert, send_alert

    from dags.common.runtime import run_ids

    exc = context.get("exception")
    error = f"{type(exc).__name__}: {exc}" if exc else None
    _record(context, "failed", error)
    ti = context["ti"]
    run_id, dag_id, dag_run_id = run_ids(context)
    send_alert(Alert(title="Task failed", dag_id=dag_id, task_id=ti.task_id, run_id=dag_run_id,
                     try_number=ti.try_number, error=error, log_url=getattr(ti, "log_url", None)))


def _finish(context, status: str) -> None:
    from etl import runs

    from dags.common.runtime import run_ids

    run_id, dag_id, dag_run_id = run_ids(context)
    reason = context.get("reason")
    try:
        runs.start_run(run_id, "airflow", dag_id, dag_run_id)
        runs.finish_run(run_id, status, error=reason if status == "failed" else None)
    except Exception:  # noqa: BLE001 - metrics must not change the run's outcome
        log.exception("could not finish run %s in ops.pipeline_runs", run_id)


def on_dag_success(context) -> None:
    _finish(context, "success")


def on_dag_failure(context) -> None:
    _finish(context, "failed")


DEFAULT_ARGS = {
    "owner": OWNER,
    "retries": 3,
    "retry_delay": retry_delay(),
    "retry_exponential_backoff": 2.0,  # a multiplier in Airflow 3: True would mean 1 (no backoff)
    "max_retry_delay": timedelta(hours=1),
    "on_failure_callback": on_task_failure,
    "on_retry_callback": on_task_retry,
    "on_success_callback": on_task_success,
}

DAG_KWARGS = {
    # No start_date: a cron-scheduled DAG then waits for its next tick after it is
    # unpaused instead of running the tick already past (which `medallion up`
    # would double with its own first run).
    "catchup": False,
    "max_active_runs": 1,
    "default_args": DEFAULT_ARGS,
    "on_success_callback": on_dag_success,
    "on_failure_callback": on_dag_failure,
}
