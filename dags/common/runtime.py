"""What a task body needs at run time: settings with Airflow Variables, the run id, one step.

Nothing here runs at DAG import: `etl` and Airflow's runtime context are
imported inside the functions, which tasks call.
"""

from __future__ import annotations

import inspect
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)

# The original pipeline's Airflow Variables; when set they win over the settings.
VARIABLES = ("bronze_batch_size", "enable_data_quality_checks")


def apply_variables(settings, variables: dict[str, Any]):
    """A copy of settings with the given Variable values (validated like the environment)."""
    from etl.settings import Settings

    updates = {k: v for k, v in variables.items() if k in VARIABLES and v not in (None, "")}
    if not updates:
        return settings
    return Settings(**{**settings.model_dump(), **updates})


def task_settings():
    """The settings for this task: environment, then Airflow Variables when set."""
    from airflow.sdk import Variable

    from etl.settings import get_settings

    return apply_variables(get_settings(), {name: Variable.get(name, default=None)
                                            for name in VARIABLES})


def run_ids(context) -> tuple[str, str, str]:
    """(pipeline run id, dag id, Airflow run id) of the running task or DAG callback."""
    from etl.runs import airflow_run_id

    dag_id = context["dag"].dag_id
    dag_run_id = context["run_id"]
    return airflow_run_id(dag_id, dag_run_id), dag_id, dag_run_id


def raw_dir_param(params) -> Path | None:
    """The `raw_dir` param as a Path; empty means RAW_DATA_PATH."""
    value = (params or {}).get("raw_dir")
    return Path(value).expanduser() if value else None


def _with_run(fn: Callable, run_id: str, settings, kwargs: dict) -> dict:
    """kwargs plus settings, and run_id when fn takes one (schema.init does not)."""
    params = inspect.signature(fn).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    extra = {"settings": settings}
    if "run_id" in params or takes_any:
        extra["run_id"] = run_id
    return {**kwargs, **extra}


def run_step(fn: Callable, *args, layer: str | None = None, quality: bool = False,
             batch_size_from: str | None = None, **kwargs) -> dict:
    """Call one `etl` step for the running task and record it in ops.task_runs.

    Passes settings (and run_id when fn takes it); a TerminalError (bad config, failed critical
    check) fails the task at once, without retries. With `quality=True` the step
    is a data-quality check, skipped when `enable_data_quality_checks` is off.
    `batch_size_from` names the setting (or Variable) passed as `batch_size`.
    Returns a small summary for XCom.
    """
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    from etl import runs
    from etl.errors import TerminalError

    context = get_current_context()
    ti = context["ti"]
    run_id, dag_id, dag_run_id = run_ids(context)
    settings = task_settings()
    started_at = getattr(ti, "start_date", None) or datetime.now(timezone.utc)
    if batch_size_from:
        kwargs["batch_size"] = getattr(settings, batch_size_from)
    if quality and not settings.enable_data_quality_checks:
        log.info("data quality checks are disabled (enable_data_quality_checks); not running %s",
                 ti.task_id)
        report, summary = None, {"skipped": True}
    else:
        try:
            report = fn(*args, **_with_run(fn, run_id, settings, kwargs))
        except TerminalError as exc:
            # Retrying a bad configuration or a failed critical check cannot help.
            raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc
        summary = {"rows": runs.rows_of(report)}
        if getattr(report, "score", None) is not None:
            summary["score"] = report.score
    dag_run = context.get("dag_run")
    runs.start_run(run_id, "airflow", dag_id, dag_run_id,
                   started_at=getattr(dag_run, "start_date", None) or started_at, settings=settings)
    runs.record_task(run_id, ti.task_id, "running", try_number=ti.try_number, layer=layer,
                     rows=summary.get("rows"), started_at=started_at, details=summary,
                     hostname=getattr(ti, "hostname", None), settings=settings)
    return {"run_id": run_id, **summary}
