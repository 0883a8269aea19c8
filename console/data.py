"""The console's only database access: small parameterised queries on `gold` and `ops`.

Every query is a constant `sqlalchemy.text()` with bind parameters; nothing is
built from user input. Results are cached with `st.cache_data(ttl=...)` keyed by
the database (host, port, name, user) so two databases never share a cache; the
engine is an `st.cache_resource`. An unreachable database becomes
`DataUnavailable` with a message that says what to fix, so a page can say so
plainly and keep rendering the rest.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date

import pandas as pd
import psycopg
import streamlit as st
from sqlalchemy import Engine, text
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError

from etl import db
from etl.errors import ServiceUnavailable
from etl.settings import get_settings

log = logging.getLogger(__name__)

TTL_OPS_SECONDS = 30
TTL_GOLD_SECONDS = 120
LAYERS = ("bronze", "silver", "gold")


class DataUnavailable(ServiceUnavailable):
    """The database cannot answer the console; the message says what to fix."""


# ------------------------------------------------------------------ plumbing

def _db_key() -> str:
    """Identifies the database without its password (cache key, never shown)."""
    s = get_settings()
    return f"{s.postgres_user}@{s.postgres_host}:{s.postgres_port}/{s.postgres_db}"


@st.cache_resource(show_spinner=False)
def _engine(db_key: str) -> Engine:
    """The pooled engine for one database (db_key only keys the cache)."""
    return db.engine(get_settings())


def _unavailable(exc: Exception) -> DataUnavailable:
    if isinstance(exc.orig, psycopg.errors.UndefinedTable):
        first = str(exc.orig).strip().splitlines()[0]
        return DataUnavailable(f"The database has no console tables yet ({first}). "
                               "Run `medallion init` to create them.")
    return DataUnavailable(str(db.postgres_unavailable(get_settings(), exc.orig or exc)))


def _handled(exc: Exception) -> bool:
    """Outages and a missing schema become DataUnavailable; anything else is a bug to show."""
    return isinstance(exc, (OperationalError, InterfaceError)) or \
        isinstance(getattr(exc, "orig", None), psycopg.errors.UndefinedTable)


def _run(db_key: str, name: str, params: dict) -> pd.DataFrame:
    query = _QUERIES[name]
    try:
        with _engine(db_key).connect() as conn:
            result = conn.execute(query, params)
            frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    except (OperationalError, InterfaceError, ProgrammingError) as exc:
        if not _handled(exc):
            raise
        raise _unavailable(exc) from exc
    log.debug("query %s returned %d rows", name, len(frame))
    return frame


@st.cache_data(ttl=TTL_OPS_SECONDS, show_spinner=False)
def _read_ops(db_key: str, name: str, params: dict) -> pd.DataFrame:
    return _run(db_key, name, params)


@st.cache_data(ttl=TTL_GOLD_SECONDS, show_spinner=False)
def _read_gold(db_key: str, name: str, params: dict) -> pd.DataFrame:
    return _run(db_key, name, params)


def _read(name: str, **params) -> pd.DataFrame:
    reader = _read_gold if name.startswith("gold_") else _read_ops
    return reader(_db_key(), name, params)


def clear_caches() -> None:
    """Forget every cached result (the Refresh button, and after an action)."""
    _read_ops.clear()
    _read_gold.clear()


def _array(values) -> list[str] | None:
    """A filter value as a bind parameter: None means no filter."""
    values = [v for v in (values or ()) if v is not None]
    return values or None


# ------------------------------------------------------------------ queries
# Filters on gold.fact_viewing: each column filter is off when its array is null,
# so the planner drops it; country 'unknown' stands for users without a country.
_FACT_FILTER = """
    session_date between :start_date and :end_date
    and (cast(:countries as text[]) is null
         or country = any(cast(:countries as text[]))
         or (:include_unknown_country and country is null))
    and (cast(:tiers as text[]) is null or subscription_tier = any(cast(:tiers as text[])))
    and (cast(:devices as text[]) is null or device = any(cast(:devices as text[])))
"""
_USER_FILTER = """
    (cast(:countries as text[]) is null
     or country = any(cast(:countries as text[]))
     or (:include_unknown_country and country is null))
    and (cast(:tiers as text[]) is null or subscription_tier = any(cast(:tiers as text[])))
"""

_QUERIES = {
    # -------------------------------------------------------------- runs
    "runs_latest_per_dag": text("""
        select distinct on (coalesce(dag_id, trigger))
               coalesce(dag_id, 'medallion run (' || trigger || ')') as dag_id,
               run_id, status, started_at, finished_at, duration_seconds, error
        from ops.pipeline_runs
        order by coalesce(dag_id, trigger), started_at desc
    """),
    "runs_recent": text("""
        select run_id, trigger, dag_id, dag_run_id, status, started_at, finished_at,
               duration_seconds, tasks_succeeded, tasks_failed, rows_bronze, rows_silver,
               rows_gold, dq_score_bronze, dq_score_silver, dq_score_gold,
               latency_seconds, error
        from ops.pipeline_runs
        order by started_at desc
        limit :limit
    """),
    "layer_row_totals": text("""
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
    """),
    "runs_latest_latency": text("""
        select run_id, dag_id, started_at, latency_seconds, earliest_file_modified_at,
               gold_built_at, duration_seconds
        from ops.pipeline_runs
        where latency_seconds is not null
        order by started_at desc
        limit 1
    """),
    "runs_freshness": text("""
        select (select max(finished_at) from ops.model_runs
                 where layer = 'gold' and status = 'success') as gold_models_built_at,
               (select max(gold_built_at) from ops.pipeline_runs) as gold_run_built_at,
               now() as checked_at
    """),
    "runs_layer_rows_history": text("""
        select run_id, started_at, rows_bronze, rows_silver, rows_gold
        from ops.pipeline_runs
        where coalesce(rows_bronze, rows_silver, rows_gold) is not null
        order by started_at desc
        limit :limit
    """),
    "runs_latency_history": text("""
        select run_id, coalesce(dag_id, trigger) as source, status, started_at,
               duration_seconds, latency_seconds
        from ops.pipeline_runs
        where duration_seconds is not null or latency_seconds is not null
        order by started_at desc
        limit :limit
    """),
    "runs_failed_recent": text("""
        select run_id, coalesce(dag_id, trigger) as source, started_at, error
        from ops.pipeline_runs
        where status = 'failed' and started_at >= now() - make_interval(hours => :hours)
        order by started_at desc
        limit 50
    """),
    # -------------------------------------------------------------- models
    "models_table_rows_history": text("""
        select run_id, model, layer, started_at,
               min(started_at) over (partition by run_id) as run_started_at,
               rows, duration_seconds, status
        from ops.model_runs
        where model_run_id in (select model_run_id from ops.model_runs
                               order by started_at desc limit :limit)
        order by started_at
    """),
    "models_runs": text("""
        select run_id, min(started_at) as started_at, count(*) as models,
               sum(duration_seconds) as seconds,
               count(*) filter (where status = 'failed') as failed
        from ops.model_runs
        group by run_id
        order by min(started_at) desc
        limit :limit
    """),
    "models_of_run": text("""
        select model, layer, status, started_at, duration_seconds, rows, full_refresh, error
        from ops.model_runs
        where run_id = :run_id
        order by started_at, model
    """),
    "models_stage_times": text("""
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
    """),
    # -------------------------------------------------------------- ingestion
    "ingestion_log": text("""
        select ingestion_id, source_file, entity, status, rows_loaded, encoding,
               file_format, compression, file_size_bytes, error, started_at, finished_at,
               extract(epoch from finished_at - started_at) as seconds, run_id
        from ops.ingestion_log
        where cast(:statuses as text[]) is null or status = any(cast(:statuses as text[]))
        order by started_at desc, ingestion_id desc
        limit :limit
    """),
    "ingestion_status_counts": text("""
        select status, count(*) as files, coalesce(sum(rows_loaded), 0) as rows_loaded
        from ops.ingestion_log
        group by status
        order by status
    """),
    "ingestion_rejected_recent": text("""
        select source_file, entity, error, started_at
        from ops.ingestion_log
        where status = 'rejected' and started_at >= now() - make_interval(hours => :hours)
        order by started_at desc
        limit 50
    """),
    "accounting_latest": text("""
        select distinct on (entity) run_id, entity, bronze_rows, silver_rows, superseded_rows,
               rejected_rows, rejected_by_reason, measured_at
        from ops.entity_accounting
        order by entity, measured_at desc
    """),
    # -------------------------------------------------------------- quality
    "dq_latest_scores": text("""
        with ranked as (
            select layer, run_id, score, measured_at, checks_total, checks_pass, checks_warn,
                   checks_fail, critical_failures,
                   row_number() over (partition by layer order by measured_at desc, run_id desc) as rn
            from ops.dq_scores
        )
        select cur.layer, cur.run_id, cur.score, cur.measured_at, cur.checks_total,
               cur.checks_pass, cur.checks_warn, cur.checks_fail, cur.critical_failures,
               prev.score as previous_score, cur.score - prev.score as score_change
        from ranked cur
        left join ranked prev on prev.layer = cur.layer and prev.rn = 2
        where cur.rn = 1
    """),
    "dq_scores_history": text("""
        select layer, run_id, score, measured_at, checks_total, checks_fail, critical_failures
        from ops.dq_scores
        order by measured_at desc
        limit :limit
    """),
    "dq_current_results": text("""
        select distinct on (table_name, check_name)
               result_id, run_id, layer, table_name, check_name, outcome, measured_value,
               thresholds, dimension, weight, is_critical, measured_at,
               (select count(*) from ops.dq_failed_rows f where f.result_id = r.result_id)
                   as failed_row_samples
        from ops.dq_check_results r
        order by table_name, check_name, measured_at desc, result_id desc
    """),
    "dq_check_history": text("""
        select result_id, run_id, outcome, measured_value, thresholds, measured_at
        from ops.dq_check_results
        where table_name = :table_name and check_name = :check_name
        order by measured_at desc, result_id desc
        limit :limit
    """),
    "dq_failed_rows": text("""
        select row_number, row_data
        from ops.dq_failed_rows
        where result_id = :result_id
        order by row_number
        limit :limit
    """),
    # -------------------------------------------------------------- audit
    "audit_recent": text("""
        select audit_id, acted_at, actor, action, target, params, outcome, detail
        from ops.console_audit
        order by acted_at desc, audit_id desc
        limit :limit
    """),
    # -------------------------------------------------------------- gold
    "gold_kpi_summary": text("""
        select users, active_users_30d, sessions, total_watch_hours, avg_session_minutes,
               avg_completion_pct, completion_rate_pct, as_of
        from gold.kpi_summary
        limit 1
    """),
    "gold_filter_options": text("""
        select 'country' as kind, country as value from gold.country_insights
        union
        select 'device', device from gold.daily_viewing
        union
        select 'tier', subscription_tier from gold.user_engagement
            where subscription_tier is not null
        order by kind, value
    """),
    "gold_date_bounds": text("""
        select min(session_date) as first_date, max(session_date) as last_date
        from gold.daily_viewing
    """),
    "gold_fact_tiles": text(f"""
        select count(*) as sessions,
               coalesce(sum(watch_seconds), 0) / 3600.0 as total_watch_hours,
               avg(watch_seconds) / 60.0 as avg_session_minutes,
               avg(completion_pct) as avg_completion_pct,
               100.0 * count(*) filter (where is_completed)
                   / nullif(count(completion_pct), 0) as completion_rate_pct,
               count(distinct user_id) filter (
                   where started_at > (select as_of from gold.kpi_summary limit 1)
                                      - interval '720 hours') as active_users_30d
        from gold.fact_viewing
        where {_FACT_FILTER}
    """),
    "gold_user_count": text(f"""
        select count(*) as users from gold.user_engagement where {_USER_FILTER}
    """),
    "gold_daily_viewing": text("""
        select session_date, device, sessions, unique_users, total_watch_hours,
               avg_completion_pct
        from gold.daily_viewing
        where session_date between :start_date and :end_date
          and (cast(:devices as text[]) is null or device = any(cast(:devices as text[])))
        order by session_date, device
    """),
    "gold_fact_daily_viewing": text(f"""
        select session_date, device, count(*) as sessions,
               count(distinct user_id) as unique_users,
               sum(watch_seconds) / 3600.0 as total_watch_hours,
               avg(completion_pct) as avg_completion_pct
        from gold.fact_viewing
        where {_FACT_FILTER}
        group by session_date, device
        order by session_date, device
    """),
    "gold_top_content_by_views": text("""
        select content_id, title, content_type, views, unique_viewers, total_watch_hours,
               avg_completion_pct, completion_rate_pct
        from gold.content_performance
        order by views desc, content_id
        limit :limit
    """),
    "gold_top_content_by_hours": text("""
        select content_id, title, content_type, views, unique_viewers, total_watch_hours,
               avg_completion_pct, completion_rate_pct
        from gold.content_performance
        order by total_watch_hours desc, content_id
        limit :limit
    """),
    "gold_fact_top_content_by_views": text(f"""
        select content_id, max(content_title) as title, max(content_type) as content_type,
               count(*) as views, count(distinct user_id) as unique_viewers,
               sum(watch_seconds) / 3600.0 as total_watch_hours,
               avg(completion_pct) as avg_completion_pct
        from gold.fact_viewing
        where {_FACT_FILTER}
        group by content_id
        order by views desc, content_id
        limit :limit
    """),
    "gold_fact_top_content_by_hours": text(f"""
        select content_id, max(content_title) as title, max(content_type) as content_type,
               count(*) as views, count(distinct user_id) as unique_viewers,
               sum(watch_seconds) / 3600.0 as total_watch_hours,
               avg(completion_pct) as avg_completion_pct
        from gold.fact_viewing
        where {_FACT_FILTER}
        group by content_id
        order by total_watch_hours desc, content_id
        limit :limit
    """),
    "gold_genres": text("""
        select genre, titles, views, unique_viewers, total_watch_hours, avg_completion_pct
        from gold.genre_performance
        order by total_watch_hours desc, genre
    """),
    "gold_fact_genres": text(f"""
        select coalesce(primary_genre, 'unknown') as genre,
               count(distinct content_id) as titles, count(*) as views,
               count(distinct user_id) as unique_viewers,
               sum(watch_seconds) / 3600.0 as total_watch_hours,
               avg(completion_pct) as avg_completion_pct
        from gold.fact_viewing
        where {_FACT_FILTER}
        group by coalesce(primary_genre, 'unknown')
        order by total_watch_hours desc, genre
    """),
    "gold_countries": text("""
        select country, users, active_users, sessions, total_watch_hours, avg_session_minutes
        from gold.country_insights
        order by total_watch_hours desc, country
    """),
    "gold_fact_countries": text(f"""
        select coalesce(country, 'unknown') as country,
               count(distinct user_id) as active_users, count(*) as sessions,
               sum(watch_seconds) / 3600.0 as total_watch_hours,
               avg(watch_seconds) / 60.0 as avg_session_minutes
        from gold.fact_viewing
        where {_FACT_FILTER}
        group by coalesce(country, 'unknown')
        order by total_watch_hours desc, country
    """),
    "gold_segments": text(f"""
        select segment, count(*) as users, coalesce(sum(sessions), 0) as sessions,
               coalesce(sum(total_watch_hours), 0) as total_watch_hours,
               avg(avg_session_minutes) as avg_session_minutes
        from gold.user_engagement
        where {_USER_FILTER}
        group by segment
        order by case segment when 'heavy' then 1 when 'regular' then 2
                              when 'light' then 3 else 4 end
    """),
}

_INSERT_AUDIT = text("""
    insert into ops.console_audit (actor, action, target, params, outcome, detail)
    values (:actor, :action, :target, cast(:params as jsonb), :outcome, :detail)
    returning audit_id
""")

_PING = text("select 1")


# ------------------------------------------------------------------ health

def ping() -> None:
    """Raise DataUnavailable unless the database answers (not cached)."""
    try:
        with _engine(_db_key()).connect() as conn:
            conn.execute(_PING)
    except (OperationalError, InterfaceError) as exc:
        raise _unavailable(exc) from exc


# ------------------------------------------------------------------ runs and latency

def latest_runs_per_dag() -> pd.DataFrame:
    """The last row of ops.pipeline_runs per DAG (or CLI trigger)."""
    return _read("runs_latest_per_dag")


def recent_runs(limit: int = 50) -> pd.DataFrame:
    """The latest pipeline runs with their monitoring metrics, newest first."""
    return _read("runs_recent", limit=limit)


def layer_row_totals() -> dict[str, int | None]:
    """Rows held per layer now: bronze and silver from the latest accounting of each
    entity (ops.entity_accounting), gold from the latest build of each gold model."""
    row = _read("layer_row_totals").iloc[0]
    return {layer: _int_or_none(row[f"rows_{layer}"]) for layer in LAYERS}


def latest_latency() -> dict | None:
    """End-to-end latency (earliest file landing -> gold built) of the latest measured run."""
    frame = _read("runs_latest_latency")
    return None if frame.empty else frame.iloc[0].to_dict()


def gold_freshness() -> dict:
    """When gold was last built, and the latest session it covers (`as_of`)."""
    row = _read("runs_freshness").iloc[0]
    built = [t for t in (row["gold_models_built_at"], row["gold_run_built_at"]) if pd.notna(t)]
    kpis = _read("gold_kpi_summary")
    as_of = kpis.iloc[0]["as_of"] if not kpis.empty else None
    built_at = max(built) if built else None
    age = (row["checked_at"] - built_at).total_seconds() if built_at is not None else None
    return {"gold_built_at": built_at, "data_as_of": as_of, "age_seconds": age}


def layer_rows_history(limit: int = 100) -> pd.DataFrame:
    """Rows per layer over the latest runs, long format (started_at, layer, rows)."""
    frame = _read("runs_layer_rows_history", limit=limit)
    if frame.empty:
        return pd.DataFrame(columns=["run_id", "started_at", "layer", "rows"])
    long = frame.melt(id_vars=["run_id", "started_at"],
                      value_vars=[f"rows_{layer}" for layer in LAYERS],
                      var_name="layer", value_name="rows")
    long["layer"] = long["layer"].str.removeprefix("rows_")
    return long.dropna(subset=["rows"]).sort_values("started_at")


def latency_history(limit: int = 100) -> pd.DataFrame:
    """Duration and end-to-end latency per run, oldest first."""
    return _read("runs_latency_history", limit=limit).sort_values("started_at")


# ------------------------------------------------------------------ models and stages

def table_rows_history(limit: int = 2000) -> pd.DataFrame:
    """Rows and duration per model over the latest model runs."""
    return _read("models_table_rows_history", limit=limit)


def model_run_ids(limit: int = 50) -> pd.DataFrame:
    """Transform runs (ops.model_runs.run_id), newest first, with totals."""
    return _read("models_runs", limit=limit)


def models_of_run(run_id: str) -> pd.DataFrame:
    """Time and rows of each model in one transform run."""
    return _read("models_of_run", run_id=run_id)


def stage_times(limit: int = 30) -> pd.DataFrame:
    """Seconds per stage (ingest, silver, gold) for the latest runs."""
    return _read("models_stage_times", limit=limit)


# ------------------------------------------------------------------ ingestion

def ingestion_log(statuses: list[str] | None = None, limit: int = 500) -> pd.DataFrame:
    """The latest files of ops.ingestion_log, optionally only some statuses."""
    return _read("ingestion_log", statuses=_array(statuses), limit=limit)


def ingestion_status_counts() -> pd.DataFrame:
    """Files and rows per ingestion status, over all time."""
    return _read("ingestion_status_counts")


def accounting_funnel() -> pd.DataFrame:
    """Latest accounting per entity as a long frame: entity, outcome, rows, balanced.

    Outcomes are `silver`, `superseded` and `rejected: <reason>`; `balanced` says
    whether bronze = silver + superseded + rejected holds for the entity.
    """
    frame = _read("accounting_latest")
    rows = []
    for rec in frame.to_dict("records"):
        balanced = rec["bronze_rows"] == rec["silver_rows"] + rec["superseded_rows"] + rec["rejected_rows"]
        base = {"entity": rec["entity"], "run_id": rec["run_id"], "bronze_rows": rec["bronze_rows"],
                "balanced": balanced, "measured_at": rec["measured_at"]}
        rows.append({**base, "outcome": "silver", "rows": rec["silver_rows"]})
        rows.append({**base, "outcome": "superseded", "rows": rec["superseded_rows"]})
        reasons = _as_dict(rec["rejected_by_reason"])
        for reason, count in sorted(reasons.items()):
            rows.append({**base, "outcome": f"rejected: {reason}", "rows": int(count)})
        unexplained = rec["rejected_rows"] - sum(int(c) for c in reasons.values())
        if unexplained > 0:
            rows.append({**base, "outcome": "rejected: (no reason recorded)", "rows": unexplained})
    columns = ["entity", "run_id", "bronze_rows", "balanced", "measured_at", "outcome", "rows"]
    return pd.DataFrame(rows, columns=columns)


def accounting_summary() -> pd.DataFrame:
    """Latest accounting per entity with whether its identity holds."""
    frame = _read("accounting_latest")
    if frame.empty:
        return frame
    balanced = frame["bronze_rows"] == (frame["silver_rows"] + frame["superseded_rows"]
                                        + frame["rejected_rows"])
    return frame.drop(columns="rejected_by_reason").assign(balanced=balanced)


# ------------------------------------------------------------------ quality

def latest_scores() -> pd.DataFrame:
    """Latest data-quality score per layer with the previous one and the change."""
    frame = _read("dq_latest_scores")
    order = {layer: i for i, layer in enumerate(LAYERS)}
    return frame.sort_values("layer", key=lambda s: s.map(order).fillna(99)).reset_index(drop=True)


def scores_history(limit: int = 500) -> pd.DataFrame:
    """Scores per layer over time, oldest first."""
    return _read("dq_scores_history", limit=limit).sort_values("measured_at")


def current_check_results() -> pd.DataFrame:
    """The latest result of every check (one row per table and check name)."""
    return _read("dq_current_results")


def filter_check_results(results: pd.DataFrame, layers=None, tables=None, outcomes=None,
                         dimensions=None) -> pd.DataFrame:
    """Rows of `current_check_results()` matching every non-empty filter."""
    mask = pd.Series(True, index=results.index)
    for column, wanted in (("layer", layers), ("table_name", tables),
                           ("outcome", outcomes), ("dimension", dimensions)):
        if wanted:
            mask &= results[column].isin(list(wanted))
    return results[mask]


def checks_for_review(results: pd.DataFrame) -> pd.DataFrame:
    """Check results worst first (error, fail, warn, pass; critical first), with a `label`."""
    rank = {"error": 0, "fail": 1, "warn": 2, "pass": 3}
    ordered = results.assign(
        label=results["table_name"] + " · " + results["check_name"],
        _rank=results["outcome"].map(rank).fillna(4),
        _critical=~results["is_critical"].fillna(False).astype(bool),
    ).sort_values(["_rank", "_critical", "label"])
    return ordered.drop(columns=["_rank", "_critical"]).reset_index(drop=True)


def check_history(table_name: str, check_name: str, limit: int = 200) -> pd.DataFrame:
    """Every recorded result of one check, newest first."""
    return _read("dq_check_history", table_name=table_name, check_name=check_name, limit=limit)


def failed_rows(result_id: int, limit: int = 100) -> pd.DataFrame:
    """The failed-row samples of one check result, one column per field."""
    frame = _read("dq_failed_rows", result_id=int(result_id), limit=limit)
    if frame.empty:
        return frame
    samples = pd.json_normalize([_as_dict(v) for v in frame["row_data"]])
    samples.insert(0, "row_number", frame["row_number"].to_numpy())
    return samples


def needs_attention(hours: int = 168) -> pd.DataFrame:
    """What needs a person: failed runs, failing critical checks, rejected files.

    Columns: kind, what, when, detail; newest first.
    """
    items = []
    for rec in _read("runs_failed_recent", hours=hours).to_dict("records"):
        items.append({"kind": "❌ failed run", "what": f"{rec['source']} · {rec['run_id']}",
                      "when": rec["started_at"], "detail": rec["error"] or ""})
    results = current_check_results()
    if not results.empty:
        failing = results[results["is_critical"] & results["outcome"].isin(["fail", "error"])]
        for rec in failing.to_dict("records"):
            items.append({"kind": "🛑 critical check failing",
                          "what": f"{rec['table_name']} · {rec['check_name']}",
                          "when": rec["measured_at"],
                          "detail": f"{rec['outcome']}: measured {rec['measured_value']}"
                                    f" ({rec['thresholds'] or 'no threshold recorded'})"})
    for rec in _read("ingestion_rejected_recent", hours=hours).to_dict("records"):
        items.append({"kind": "📄 rejected file", "what": rec["source_file"],
                      "when": rec["started_at"], "detail": rec["error"] or ""})
    frame = pd.DataFrame(items, columns=["kind", "what", "when", "detail"])
    return frame.sort_values("when", ascending=False, na_position="last").reset_index(drop=True)


# ------------------------------------------------------------------ audit

def record_action(actor: str, action: str, target: str, params: dict, outcome: str,
                  detail: str) -> int:
    """Write one console action to ops.console_audit; returns its audit_id."""
    try:
        with _engine(_db_key()).begin() as conn:
            audit_id = conn.execute(_INSERT_AUDIT, {
                "actor": actor, "action": action, "target": target,
                "params": json.dumps(params, default=str), "outcome": outcome,
                "detail": detail[:4000],
            }).scalar_one()
    except (OperationalError, InterfaceError, ProgrammingError) as exc:
        if not _handled(exc):
            raise
        raise _unavailable(exc) from exc
    _read_ops.clear()
    log.info("audit %s: %s %s %s -> %s", audit_id, actor, action, target, outcome)
    return int(audit_id)


def recent_actions(limit: int = 50) -> pd.DataFrame:
    """The latest console actions, newest first."""
    return _read("audit_recent", limit=limit)


# ------------------------------------------------------------------ gold KPIs

@dataclass(frozen=True)
class KpiFilter:
    """The gold page's filters; empty tuples mean 'all'."""

    start_date: date
    end_date: date
    countries: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    first_date: date | None = None  # the full range, to know whether dates filter at all
    last_date: date | None = None

    @property
    def narrows_dates(self) -> bool:
        return (self.first_date is not None and self.start_date > self.first_date) or \
            (self.last_date is not None and self.end_date < self.last_date)

    @property
    def narrows_users(self) -> bool:
        return bool(self.countries or self.tiers)

    @property
    def is_empty(self) -> bool:
        return not (self.narrows_dates or self.narrows_users or self.devices)

    def fact_params(self) -> dict:
        return {"start_date": self.start_date, "end_date": self.end_date,
                "countries": _array(self.countries),
                "include_unknown_country": "unknown" in self.countries,
                "tiers": _array(self.tiers), "devices": _array(self.devices)}

    def user_params(self) -> dict:
        return {"countries": _array(self.countries),
                "include_unknown_country": "unknown" in self.countries,
                "tiers": _array(self.tiers)}


def filter_options() -> dict[str, list[str]]:
    """Choices for the gold filters: countries, tiers and devices present in gold."""
    frame = _read("gold_filter_options")
    return {kind: sorted(frame.loc[frame["kind"] == kind, "value"].dropna().tolist())
            for kind in ("country", "tier", "device")}


def date_bounds() -> tuple[date | None, date | None]:
    """First and last session date in gold.daily_viewing."""
    row = _read("gold_date_bounds").iloc[0]
    first, last = row["first_date"], row["last_date"]
    return (None if pd.isna(first) else first, None if pd.isna(last) else last)


def kpi_tiles(flt: KpiFilter | None = None) -> dict:
    """The six KPI tiles; straight from gold.kpi_summary when nothing is filtered."""
    if flt is None or flt.is_empty:
        frame = _read("gold_kpi_summary")
        return {} if frame.empty else frame.iloc[0].to_dict()
    tiles = _read("gold_fact_tiles", **flt.fact_params()).iloc[0].to_dict()
    tiles["users"] = int(_read("gold_user_count", **flt.user_params()).iloc[0]["users"])
    summary = _read("gold_kpi_summary")
    tiles["as_of"] = summary.iloc[0]["as_of"] if not summary.empty else None
    return tiles


def daily_viewing(flt: KpiFilter) -> pd.DataFrame:
    """Sessions and watch hours per day and device (from fact_viewing only when users are filtered)."""
    if flt.narrows_users:
        return _read("gold_fact_daily_viewing", **flt.fact_params())
    return _read("gold_daily_viewing", start_date=flt.start_date, end_date=flt.end_date,
                 devices=_array(flt.devices))


def top_content(flt: KpiFilter, by: str = "views", limit: int = 10) -> pd.DataFrame:
    """Top content by `views` or `watch_hours`."""
    if by not in ("views", "watch_hours"):
        raise ValueError("by must be 'views' or 'watch_hours'")
    suffix = "views" if by == "views" else "hours"
    if flt.is_empty:
        return _read(f"gold_top_content_by_{suffix}", limit=limit)
    return _read(f"gold_fact_top_content_by_{suffix}", limit=limit, **flt.fact_params())


def genre_performance(flt: KpiFilter) -> pd.DataFrame:
    """Per genre; under filters, sessions count for their content's primary genre."""
    if flt.is_empty:
        return _read("gold_genres")
    return _read("gold_fact_genres", **flt.fact_params())


def country_insights(flt: KpiFilter) -> pd.DataFrame:
    """Per user country ('unknown' for users without one)."""
    if flt.is_empty:
        return _read("gold_countries")
    return _read("gold_fact_countries", **flt.fact_params())


def user_segments(flt: KpiFilter) -> pd.DataFrame:
    """Users per engagement segment (country and tier filters apply)."""
    return _read("gold_segments", **flt.user_params())


# ------------------------------------------------------------------ helpers

def _int_or_none(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _as_dict(value) -> dict:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {"value": loaded}
    return {}


__all__ = [
    "DataUnavailable", "KpiFilter", "LAYERS", "accounting_funnel", "accounting_summary",
    "check_history", "checks_for_review", "clear_caches", "country_insights",
    "current_check_results", "daily_viewing", "date_bounds", "failed_rows",
    "filter_check_results", "filter_options", "genre_performance", "gold_freshness",
    "ingestion_log", "ingestion_status_counts", "kpi_tiles", "latency_history",
    "latest_latency", "layer_row_totals", "latest_runs_per_dag", "latest_scores",
    "layer_rows_history", "model_run_ids", "models_of_run", "needs_attention", "ping",
    "recent_actions", "recent_runs", "record_action", "scores_history", "stage_times",
    "table_rows_history", "top_content", "user_segments",
]
