"""Lineage for the console: the graph (`etl.lineage`, from the project's files) and what the
database says about each node (last row count, age, check outcome, runs)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import text

from console.data import quality
from console.data.reader import Query, read_ops
from etl import lineage as etl_lineage

TTL_GRAPH_SECONDS = 300
OUTCOME_RANK = {"pass": 0, "warn": 1, "fail": 2, "error": 3}

# Small tables only: ops.model_runs, ops.entity_accounting, ops.ingestion_log,
# ops.dq_check_results (never a gold table).
LINEAGE_TABLE_STATS = Query("lineage_table_stats", text("""
    with models as (
        select distinct on (model) model as table_name, rows, finished_at as built_at
        from ops.model_runs
        where status = 'success'
        order by model, finished_at desc nulls last
    ), accounting as (
        select distinct on (entity) entity, bronze_rows, rejected_rows, measured_at
        from ops.entity_accounting
        order by entity, measured_at desc
    ), loaded as (
        select entity, max(finished_at) as loaded_at
        from ops.ingestion_log
        where status = 'loaded' and entity is not null
        group by entity
    ), bronze as (
        select 'bronze.' || coalesce(a.entity, l.entity) as table_name,
               a.bronze_rows as rows, l.loaded_at as built_at
        from accounting a full join loaded l on l.entity = a.entity
    ), rejected as (
        select 'silver.' || entity || '_rejected' as table_name, rejected_rows as rows,
               measured_at as built_at
        from accounting
    )
    select table_name, rows, built_at from models
    union all select table_name, rows, built_at from bronze
    union all select r.table_name, r.rows, r.built_at from rejected r
    where not exists (select 1 from models m where m.table_name = r.table_name)
"""))

LINEAGE_MODEL_RUNS = Query("lineage_model_runs", text("""
    select run_id, status, started_at, duration_seconds, rows, full_refresh, error
    from ops.model_runs
    where model = :model
    order by started_at desc
    limit :limit
"""))

LINEAGE_FILES = Query("lineage_files", text("""
    select started_at, source_file, status, rows_loaded, run_id, error
    from ops.ingestion_log
    where entity = :entity
    order by started_at desc
    limit :limit
"""))


@st.cache_data(ttl=TTL_GRAPH_SECONDS, show_spinner=False)
def graph() -> etl_lineage.Lineage:
    """The lineage graph of the project's models, assets and checks files."""
    return etl_lineage.build()


def table_stats() -> pd.DataFrame:
    """Per table: its last row count and when it was last built or loaded."""
    return read_ops(LINEAGE_TABLE_STATS)


def check_outcomes() -> pd.DataFrame:
    """Per table: the worst current outcome of its checks and how many pass."""
    results = quality.current_check_results()
    columns = ["table_name", "outcome", "checks", "passing"]
    if results.empty:
        return pd.DataFrame(columns=columns)
    rank = results["outcome"].map(OUTCOME_RANK).fillna(3)
    worst = results.assign(rank=rank).sort_values("rank").groupby("table_name").tail(1)
    counts = results.groupby("table_name").agg(
        checks=("outcome", "size"), passing=("outcome", lambda o: int((o == "pass").sum())))
    return worst[["table_name", "outcome"]].merge(counts, on="table_name")[columns]


def checks_of(table: str) -> pd.DataFrame:
    """The current results of one table's checks."""
    results = quality.current_check_results()
    if results.empty:
        return results
    return results[results["table_name"] == table].reset_index(drop=True)


def model_runs_of(model: str, limit: int = 10) -> pd.DataFrame:
    """The last runs of one SQL model, newest first."""
    return read_ops(LINEAGE_MODEL_RUNS, model=model, limit=limit)


def files_of(entity: str, limit: int = 10) -> pd.DataFrame:
    """The last files ingested for one entity (bronze's runs), newest first."""
    return read_ops(LINEAGE_FILES, entity=entity, limit=limit)


def annotations(stale_tables: set[str] | None = None) -> tuple[dict[str, list[str]],
                                                                dict[str, str | None]]:
    """(notes, states) for `etl.lineage.to_dot`: under each table its last row count and
    age, a stale gold table marked; under each checks node its current outcome."""
    from console import ui  # formatting only

    lineage, stats, outcomes = graph(), table_stats(), check_outcomes()
    by_table = {r["table_name"]: r for r in stats.to_dict("records")}
    by_checks = {r["table_name"]: r for r in outcomes.to_dict("records")}
    notes: dict[str, list[str]] = {}
    states: dict[str, str | None] = {}
    for node in lineage.nodes.values():
        if node.kind == "raw":
            notes[node.node_id] = [node.detail]
        elif node.kind == "checks":
            found = by_checks.get(node.table)
            notes[node.node_id] = ([f"{ui.icon(found['outcome'])} {found['passing']}/"
                                    f"{found['checks']} pass"] if found else ["not run yet"])
            states[node.node_id] = found["outcome"] if found else None
        elif node.table in by_table:
            row = by_table[node.table]
            notes[node.node_id] = [f"{ui.compact_number(row['rows'])} rows",
                                   f"built {ui.fmt_ago(row['built_at'])}"]
        elif node.model in by_table:  # a companion table (e.g. _rejected) of a model
            notes[node.node_id] = [f"built {ui.fmt_ago(by_table[node.model]['built_at'])} "
                                   f"by {node.model}"]
        elif node.kind != "mongo":
            notes[node.node_id] = ["not built yet"]
        if node.table in (stale_tables or set()):
            notes.setdefault(node.node_id, []).append("⏰ older than allowed")
            states[node.node_id] = "stale"
    return notes, states
