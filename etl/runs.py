"""Monitoring metrics of pipeline runs (the original's list), in `ops.pipeline_runs`.

One row per run: a CLI `medallion run` or one Airflow DAG run. Each task attempt
is a row of `ops.task_runs`; `finish_run` then derives, from facts in the
database rather than counters kept in memory:

- duration (started_at -> finished_at),
- task success, failure and retry counts (latest try of each task),
- rows processed per layer (rows the load/build steps reported; else
  `ops.ingestion_log` for bronze and `ops.model_runs` for silver and gold),
- the data quality score per layer (`ops.dq_scores` of the run),
- end-to-end latency: from the earliest modification time of the files loaded
  since the previous gold build to this run's gold build.

Plain Python: no Airflow import. The DAGs call it from task callbacks, the CLI
calls it around its steps.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from etl import LAYERS, db
from etl.settings import Settings, get_settings

log = logging.getLogger(__name__)

TRIGGERS = ("cli", "airflow")
RUN_STATUSES = ("running", "success", "failed")
TASK_STATES = ("running", "success", "failed", "up_for_retry", "skipped")


@dataclass(frozen=True)
class RunMetrics:
    """One row of `ops.pipeline_runs`, as `finish_run` leaves it."""

    run_id: str
    trigger: str
    dag_id: str | None
    dag_run_id: str | None
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    tasks_succeeded: int
    tasks_failed: int
    tasks_retried: int
    rows: dict[str, int | None] = field(default_factory=dict)
    dq_scores: dict[str, float | None] = field(default_factory=dict)
    earliest_file_modified_at: datetime | None = None
    gold_built_at: datetime | None = None
    latency_seconds: float | None = None
    error: str | None = None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def new_run_id(prefix: str = "cli") -> str:
    """A fresh, sortable run id for a run not started by Airflow (e.g. `cli:20261126T180102Z:1a2b3c`)."""
    return f"{prefix}:{_now().strftime('%Y%m%dT%H%M%SZ')}:{uuid.uuid4().hex[:6]}"


def airflow_run_id(dag_id: str, dag_run_id: str) -> str:
    """The pipeline run id of one Airflow DAG run (Airflow's run ids repeat across DAGs)."""
    return f"{dag_id}:{dag_run_id}"


def _total(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, dict):  # rows per table, or per layer then table
        parts = [t for t in (_total(v) for v in value.values()) if t is not None]
        return sum(parts) if parts else None
    return None


def rows_of(report: Any) -> int | None:
    """Rows a step's report says it wrote (IngestReport.rows_loaded, TransformReport.rows, ...)."""
    if report is None:
        return None
    for name in ("rows_loaded", "rows", "total_rows", "row_count", "rows_written"):
        value = report.get(name) if isinstance(report, dict) else getattr(report, name, None)
        total = _total(value)
        if total is not None:
            return total
    return None


def start_run(run_id: str, trigger: str = "cli", dag_id: str | None = None,
              dag_run_id: str | None = None, *, started_at: datetime | None = None,
              settings: Settings | None = None) -> None:
    """Record that a run started; idempotent (a second call keeps the first start)."""
    if trigger not in TRIGGERS:
        raise ValueError(f"trigger must be one of {TRIGGERS}, not {trigger!r}")
    with db.transaction(settings or get_settings()) as conn:
        conn.execute(
            """insert into ops.pipeline_runs (run_id, trigger, dag_id, dag_run_id, status, started_at)
               values (%s, %s, %s, %s, 'running', %s)
               on conflict (run_id) do update
                  set dag_id = coalesce(ops.pipeline_runs.dag_id, excluded.dag_id),
                      dag_run_id = coalesce(ops.pipeline_runs.dag_run_id, excluded.dag_run_id),
                      started_at = least(ops.pipeline_runs.started_at, excluded.started_at)""",
            (run_id, trigger, dag_id, dag_run_id, started_at or _now()),
        )
    log.info("run %s started (%s%s)", run_id, trigger, f", {dag_id}" if dag_id else "")


def record_task(run_id: str, task_id: str, state: str, *, try_number: int = 1,
                layer: str | None = None, rows: int | None = None,
                started_at: datetime | None = None, finished_at: datetime | None = None,
                error: str | None = None, details: dict | None = None,
                hostname: str | None = None, settings: Settings | None = None) -> None:
    """Record one attempt of a task (upsert on run, task and try) and refresh the run's counts.

    `hostname` names the worker that ran the attempt (Airflow's task-instance hostname).

    Creates the run row (trigger 'cli') when `start_run` was not called first.
    A later call for the same attempt fills in what it knows and keeps the rest
    (e.g. rows from the task body, then the state from a callback).
    """
    if state not in TASK_STATES:
        raise ValueError(f"state must be one of {TASK_STATES}, not {state!r}")
    if layer is not None and layer not in LAYERS:
        raise ValueError(f"layer must be one of {LAYERS}, not {layer!r}")
    if finished_at is None and state != "running":
        finished_at = _now()
    with db.transaction(settings or get_settings()) as conn:
        conn.execute(
            "insert into ops.pipeline_runs (run_id) values (%s) on conflict (run_id) do nothing",
            (run_id,),
        )
        conn.execute(
            """insert into ops.task_runs (run_id, task_id, try_number, state, layer, rows,
                                          started_at, finished_at, duration_seconds, error, details,
                                          hostname)
               values (%(run_id)s, %(task_id)s, %(try)s, %(state)s, %(layer)s, %(rows)s,
                       %(started)s, %(finished)s,
                       extract(epoch from (%(finished)s::timestamptz - %(started)s::timestamptz)),
                       %(error)s, %(details)s::jsonb, %(hostname)s)
               on conflict (run_id, task_id, try_number) do update set
                   state = excluded.state,
                   layer = coalesce(excluded.layer, ops.task_runs.layer),
                   rows = coalesce(excluded.rows, ops.task_runs.rows),
                   started_at = coalesce(ops.task_runs.started_at, excluded.started_at),
                   finished_at = coalesce(excluded.finished_at, ops.task_runs.finished_at),
                   duration_seconds = extract(epoch from (
                       coalesce(excluded.finished_at, ops.task_runs.finished_at)
                       - coalesce(ops.task_runs.started_at, excluded.started_at))),
                   error = coalesce(excluded.error, ops.task_runs.error),
                   details = ops.task_runs.details || excluded.details,
                   hostname = coalesce(excluded.hostname, ops.task_runs.hostname),
                   recorded_at = now()""",
            {"run_id": run_id, "task_id": task_id, "try": try_number, "state": state,
             "layer": layer, "rows": rows, "started": started_at, "finished": finished_at,
             "error": error, "details": json.dumps(details or {}, default=str),
             "hostname": hostname or None},
        )
        _refresh_counts(conn, run_id)
    log.info("run %s: task %s try %s %s%s", run_id, task_id, try_number, state,
             f" ({rows} {layer} rows)" if rows is not None else "")


_COUNTS_SQL = """
with latest as (
    select distinct on (task_id) task_id, state
    from ops.task_runs where run_id = %(run_id)s
    order by task_id, try_number desc
)
update ops.pipeline_runs set
    tasks_succeeded = (select count(*) from latest where state = 'success'),
    tasks_failed = (select count(*) from latest where state = 'failed'),
    tasks_retried = (select count(*) from ops.task_runs
                     where run_id = %(run_id)s and state = 'up_for_retry')
where run_id = %(run_id)s
"""


def _refresh_counts(conn, run_id: str) -> None:
    conn.execute(_COUNTS_SQL, {"run_id": run_id})


def _rows_per_layer(conn, run_id: str) -> dict[str, int | None]:
    rows: dict[str, int | None] = {layer: None for layer in LAYERS}
    for layer, total in conn.execute(
        """select layer, sum(rows) from (
               select distinct on (task_id) task_id, layer, rows, state
               from ops.task_runs where run_id = %s order by task_id, try_number desc) t
           where state = 'success' and layer is not null and rows is not null
           group by layer""", (run_id,)):
        rows[layer] = int(total)
    if rows["bronze"] is None:
        total = conn.execute(
            """select sum(rows_loaded) from ops.ingestion_log
               where run_id = %s and status = 'loaded'""", (run_id,)).fetchone()[0]
        rows["bronze"] = int(total) if total is not None else None
    for layer, total in conn.execute(
            """select layer, sum(rows) from ops.model_runs
               where run_id = %s and status = 'success' group by layer""", (run_id,)):
        if layer in rows and rows[layer] is None and total is not None:
            rows[layer] = int(total)
    return rows


def _gold_built_at(conn, run_id: str) -> datetime | None:
    return conn.execute(
        """select coalesce(
               (select max(finished_at) from ops.model_runs
                where run_id = %(r)s and layer = 'gold' and status = 'success'),
               (select max(finished_at) from ops.task_runs
                where run_id = %(r)s and layer = 'gold' and rows is not null and state = 'success'))""",
        {"r": run_id}).fetchone()[0]


def _earliest_landing(conn, run_id: str, gold_built_at: datetime) -> datetime | None:
    """Earliest mtime of the files loaded after the previous gold build and before this one."""
    return conn.execute(
        """select min(l.file_modified_at) from ops.ingestion_log l
           where l.status = 'loaded' and l.file_modified_at is not null
             and coalesce(l.finished_at, l.started_at) <= %(built)s
             and coalesce(l.finished_at, l.started_at) > coalesce(
                 (select max(gold_built_at) from ops.pipeline_runs
                  where run_id <> %(r)s and gold_built_at < %(built)s), '-infinity')""",
        {"r": run_id, "built": gold_built_at}).fetchone()[0]


def finish_run(run_id: str, status: str, error: str | None = None, *,
               finished_at: datetime | None = None,
               settings: Settings | None = None) -> RunMetrics:
    """Close a run: status, duration and every metric derived from the database; idempotent."""
    if status not in RUN_STATUSES:
        raise ValueError(f"status must be one of {RUN_STATUSES}, not {status!r}")
    finished_at = finished_at or _now()
    with db.transaction(settings or get_settings()) as conn:
        conn.execute(
            "insert into ops.pipeline_runs (run_id) values (%s) on conflict (run_id) do nothing",
            (run_id,),
        )
        _refresh_counts(conn, run_id)
        rows = _rows_per_layer(conn, run_id)
        scores = {layer: None for layer in LAYERS}
        scores.update({layer: float(score) for layer, score in conn.execute(
            "select layer, score from ops.dq_scores where run_id = %s", (run_id,))})
        built = _gold_built_at(conn, run_id)
        earliest = _earliest_landing(conn, run_id, built) if built is not None else None
        conn.execute(
            """update ops.pipeline_runs set
                   status = %(status)s, finished_at = %(finished)s,
                   duration_seconds = greatest(0, extract(epoch from (%(finished)s - started_at))),
                   rows_bronze = %(rb)s, rows_silver = %(rs)s, rows_gold = %(rg)s,
                   dq_score_bronze = %(sb)s, dq_score_silver = %(ss)s, dq_score_gold = %(sg)s,
                   gold_built_at = %(built)s, earliest_file_modified_at = %(earliest)s,
                   latency_seconds = extract(epoch from (%(built)s::timestamptz
                                                         - %(earliest)s::timestamptz)),
                   error = %(error)s
               where run_id = %(run_id)s""",
            {"status": status, "finished": finished_at, "rb": rows["bronze"], "rs": rows["silver"],
             "rg": rows["gold"], "sb": scores["bronze"], "ss": scores["silver"],
             "sg": scores["gold"], "built": built, "earliest": earliest,
             "error": error[:4000] if error else None, "run_id": run_id},
        )
    metrics = get_run(run_id, settings=settings)
    assert metrics is not None
    log.info("run %s %s in %.1fs: %d task(s) ok, %d failed; rows %s; dq %s; latency %s s",
             run_id, status, metrics.duration_seconds or 0.0, metrics.tasks_succeeded,
             metrics.tasks_failed, metrics.rows, metrics.dq_scores, metrics.latency_seconds)
    return metrics


def get_run(run_id: str, *, settings: Settings | None = None) -> RunMetrics | None:
    """The metrics row of one run, or None."""
    with db.connect(settings or get_settings()) as conn:
        row = conn.execute(
            """select run_id, trigger, dag_id, dag_run_id, status, started_at, finished_at,
                      duration_seconds, tasks_succeeded, tasks_failed, tasks_retried,
                      rows_bronze, rows_silver, rows_gold,
                      dq_score_bronze, dq_score_silver, dq_score_gold,
                      earliest_file_modified_at, gold_built_at, latency_seconds, error
               from ops.pipeline_runs where run_id = %s""", (run_id,)).fetchone()
    if row is None:
        return None
    return RunMetrics(
        run_id=row[0], trigger=row[1], dag_id=row[2], dag_run_id=row[3], status=row[4],
        started_at=row[5], finished_at=row[6], duration_seconds=row[7],
        tasks_succeeded=row[8], tasks_failed=row[9], tasks_retried=row[10],
        rows=dict(zip(LAYERS, row[11:14])), dq_scores=dict(zip(LAYERS, row[14:17])),
        earliest_file_modified_at=row[17], gold_built_at=row[18], latency_seconds=row[19],
        error=row[20],
    )
