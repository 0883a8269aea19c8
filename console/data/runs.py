"""Pipeline and model runs from `ops`: latest runs, rows per layer, latency, freshness, stages."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import text

from console.data import gold
from console.data.reader import LAYERS, Query, int_or_none, read_ops

RUNS_LATEST_PER_DAG = Query("runs_latest_per_dag", text("""
    select distinct on (coalesce(dag_id, trigger))
           coalesce(dag_id, 'medallion run (' || trigger || ')') as dag_id,
           run_id, status, started_at, finished_at, duration_seconds, error
    from ops.pipeline_runs
    order by coalesce(dag_id, trigger), started_at desc
"""))

RUNS_RECENT = Query("runs_recent", text("""
    select run_id, trigger, dag_id, dag_run_id, status, started_at, finished_at,
           duration_seconds, tasks_succeeded, tasks_failed, rows_bronze, rows_silver,
           rows_gold, dq_score_bronze, dq_score_silver, dq_score_gold,
           latency_seconds, error
    from ops.pipeline_runs
    order by started_at desc
    limit :limit
"""))

LAYER_ROW_TOTALS = Query("layer_row_totals", text("""
    with accounting as (
        select distinct on (entity) entity, bronze_rows, silver_rows
        from ops.entity_accounting
        order by entity, measured_at desc
    ),
    gold_models as (
        select distinct on (model) model, rows
        from ops.model_runs
        where layer = 'gold' and status = 'success' and rows is not null
        order by model, started_at desc
    )
    select (select sum(bronze_rows) from accounting) as rows_bronze,
           (select sum(silver_rows) from accounting) as rows_silver,
           (select sum(rows) from gold_models) as rows_gold
"""))

RUNS_LATEST_LATENCY = Query("runs_latest_latency", text("""
    select run_id, dag_id, started_at, latency_seconds, earliest_file_modified_at,
           gold_built_at, duration_seconds
    from ops.pipeline_runs
    where latency_seconds is not null
    order by started_at desc
    limit 1
"""))

RUNS_FRESHNESS = Query("runs_freshness", text("""
    select (select max(finished_at) from ops.model_runs
             where layer = 'gold' and status = 'success') as gold_models_built_at,
           (select max(gold_built_at) from ops.pipeline_runs) as gold_run_built_at,
           now() as checked_at
"""))

RUNS_LAYER_ROWS_HISTORY = Query("runs_layer_rows_history", text("""
    select run_id, started_at, rows_bronze, rows_silver, rows_gold
    from ops.pipeline_runs
    where coalesce(rows_bronze, rows_silver, rows_gold) is not null
    order by started_at desc
    limit :limit
"""))

RUNS_LATENCY_HISTORY = Query("runs_latency_history", text("""
    select run_id, coalesce(dag_id, trigger) as source, status, started_at,
           duration_seconds, latency_seconds
    from ops.pipeline_runs
    where duration_seconds is not null or latency_seconds is not null
    order by started_at desc
    limit :limit
"""))

RUNS_FAILED_RECENT = Query("runs_failed_recent", text("""
    select run_id, coalesce(dag_id, trigger) as source, started_at, error
    from ops.pipeline_runs
    where status = 'failed' and started_at >= now() - make_interval(hours => :hours)
    order by started_at desc
    limit 50
"""))

MODELS_TABLE_ROWS_HISTORY = Query("models_table_rows_history", text("""
    select run_id, model, layer, started_at,
           min(started_at) over (partition by run_id) as run_started_at,
           rows, duration_seconds, status
    from ops.model_runs
    where model_run_id in (select model_run_id from ops.model_runs
                           order by started_at desc limit :limit)
    order by started_at
"""))

MODELS_RUNS = Query("models_runs", text("""
    select run_id, min(started_at) as started_at, count(*) as models,
           sum(duration_seconds) as seconds,
           count(*) filter (where status = 'failed') as failed
    from ops.model_runs
    group by run_id
    order by min(started_at) desc
    limit :limit
"""))

MODELS_OF_RUN = Query("models_of_run", text("""
    select model, layer, status, mode, started_at, duration_seconds, rows, rows_read,
           rows_changed, full_refresh, error
    from ops.model_runs
    where run_id = :run_id
    order by started_at, model
"""))

MODELS_STAGE_TIMES = Query("models_stage_times", text("""
    with recent as (
        select run_id from ops.model_runs
        group by run_id order by min(started_at) desc limit :limit
    ),
    models as (
        select m.run_id, m.layer as stage, min(m.started_at) as started_at,
               sum(m.duration_seconds) as seconds
        from ops.model_runs m join recent using (run_id)
        group by m.run_id, m.layer
    ),
    ingestion as (
        select l.run_id, 'ingest' as stage, min(l.started_at) as started_at,
               sum(extract(epoch from l.finished_at - l.started_at)) as seconds
        from ops.ingestion_log l join recent using (run_id)
        group by l.run_id
    )
    select * from ingestion
    union all
    select * from models
    order by started_at
"""))


# ------------------------------------------------------------------ pipeline runs

def latest_runs_per_dag() -> pd.DataFrame:
    """The last row of ops.pipeline_runs per DAG (or CLI trigger)."""
    return read_ops(RUNS_LATEST_PER_DAG)


def recent_runs(limit: int = 50) -> pd.DataFrame:
    """The latest pipeline runs with their monitoring metrics, newest first."""
    return read_ops(RUNS_RECENT, limit=limit)


def failed_runs(hours: int) -> pd.DataFrame:
    """Failed pipeline runs of the last `hours` hours, newest first (at most 50)."""
    return read_ops(RUNS_FAILED_RECENT, hours=hours)


def layer_row_totals() -> dict[str, int | None]:
    """Rows held per layer now: bronze and silver from the latest accounting of each
    entity (ops.entity_accounting), gold from the latest build of each gold model."""
    row = read_ops(LAYER_ROW_TOTALS).iloc[0]
    return {layer: int_or_none(row[f"rows_{layer}"]) for layer in LAYERS}


def latest_latency() -> dict | None:
    """End-to-end latency (earliest file landing -> gold built) of the latest measured run."""
    frame = read_ops(RUNS_LATEST_LATENCY)
    return None if frame.empty else frame.iloc[0].to_dict()


def gold_freshness() -> dict:
    """When gold was last built, and the latest session it covers (`as_of`)."""
    row = read_ops(RUNS_FRESHNESS).iloc[0]
    built = [t for t in (row["gold_models_built_at"], row["gold_run_built_at"]) if pd.notna(t)]
    as_of = gold.kpi_summary().get("as_of")
    built_at = max(built) if built else None
    age = (row["checked_at"] - built_at).total_seconds() if built_at is not None else None
    return {"gold_built_at": built_at, "data_as_of": as_of, "age_seconds": age}


def layer_rows_history(limit: int = 100) -> pd.DataFrame:
    """Rows per layer over the latest runs, long format (started_at, layer, rows)."""
    frame = read_ops(RUNS_LAYER_ROWS_HISTORY, limit=limit)
    if frame.empty:
        return pd.DataFrame(columns=["run_id", "started_at", "layer", "rows"])
    long = frame.melt(id_vars=["run_id", "started_at"],
                      value_vars=[f"rows_{layer}" for layer in LAYERS],
                      var_name="layer", value_name="rows")
    long["layer"] = long["layer"].str.removeprefix("rows_")
    return long.dropna(subset=["rows"]).sort_values("started_at")


def latency_history(limit: int = 100) -> pd.DataFrame:
    """Duration and end-to-end latency per run, oldest first."""
    return read_ops(RUNS_LATENCY_HISTORY, limit=limit).sort_values("started_at")


# ------------------------------------------------------------------ model runs and stages

def table_rows_history(limit: int = 2000) -> pd.DataFrame:
    """Rows and duration per model over the latest model runs."""
    return read_ops(MODELS_TABLE_ROWS_HISTORY, limit=limit)


def model_run_ids(limit: int = 50) -> pd.DataFrame:
    """Transform runs (ops.model_runs.run_id), newest first, with totals."""
    return read_ops(MODELS_RUNS, limit=limit)


def models_of_run(run_id: str) -> pd.DataFrame:
    """Time and rows of each model in one transform run."""
    return read_ops(MODELS_OF_RUN, run_id=run_id)


def stage_times(limit: int = 30) -> pd.DataFrame:
    """Seconds per stage (ingest, silver, gold) for the latest runs."""
    return read_ops(MODELS_STAGE_TIMES, limit=limit)
