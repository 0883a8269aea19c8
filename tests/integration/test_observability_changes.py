"""What changed between two runs, over synthetic ops rows: KPIs from their snapshots,
rows per table and layer, flipped checks, files that arrived between them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from etl import db
from etl.observability import changes

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
KPI = ("users, active_users_30d, sessions, total_watch_hours, avg_session_minutes, "
       "avg_completion_pct, completion_rate_pct, as_of")


def _run(conn, run_id, at, dag_id=None, status="success", rows=(10, 8, 5)):
    conn.execute(
        """insert into ops.pipeline_runs (run_id, trigger, dag_id, status, started_at, finished_at,
                                          rows_bronze, rows_silver, rows_gold)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (run_id, "airflow" if dag_id else "cli", dag_id, status, at, at + timedelta(minutes=5),
         *rows))


def _model(conn, run_id, model, rows, at):
    conn.execute(
        """insert into ops.model_runs (run_id, model, layer, started_at, finished_at, rows, status)
           values (%s, %s, %s, %s, %s, %s, 'success')""",
        (run_id, model, model.split(".")[0], at, at + timedelta(seconds=1), rows))


def _check(conn, run_id, table, name, outcome, value=None):
    conn.execute(
        """insert into ops.dq_check_results (run_id, layer, table_name, check_name, outcome,
                                             measured_value) values (%s, %s, %s, %s, %s, %s)""",
        (run_id, table.split(".")[0], table, name, outcome, value))


def _file(conn, name, at, run_id, status="loaded", rows=5):
    conn.execute(
        """insert into ops.ingestion_log (source_file, sha256, entity, status, rows_loaded, encoding,
                                          error, started_at, run_id)
           values (%s, md5(%s), 'users', %s, %s, 'utf-8', %s, %s, %s)""",
        (name, name, status, rows, "bad" if status == "rejected" else None, at, run_id))


@pytest.fixture
def two_runs(medallion_db):
    """Two CLI runs a day apart, each ingesting its own files, plus a file loaded by an
    Airflow run in between."""
    a_at, b_at = T0, T0 + timedelta(days=1)
    with db.transaction(medallion_db) as conn:
        _run(conn, "cli:a", a_at, rows=(100, 90, 20))
        _run(conn, "cli:b", b_at, rows=(30, 120, 20))
        _file(conn, "users_old.csv", a_at - timedelta(hours=1), "cli:older")
        _file(conn, "users_a.csv", a_at + timedelta(seconds=5), "cli:a", rows=100)
        _file(conn, "users_between.csv", a_at + timedelta(hours=3), "dag_3:x")
        _file(conn, "users_b.csv", b_at + timedelta(seconds=5), "cli:b", rows=30)
        _file(conn, "users_bad.csv", b_at + timedelta(seconds=6), "cli:b", status="rejected", rows=0)
        _file(conn, "users_after.csv", b_at + timedelta(hours=1), "cli:c")
        for run_id, at, users_rows in (("cli:a", a_at, 90), ("cli:b", b_at, 120)):
            _model(conn, run_id, "silver.users", users_rows, at)
            _model(conn, run_id, "gold.kpi_summary", 1, at)
        _check(conn, "cli:a", "silver.users", "emails are valid", "pass", 0)
        _check(conn, "cli:b", "silver.users", "emails are valid", "fail", 7)
        _check(conn, "cli:a", "gold.kpi_summary", "one row", "pass")
        _check(conn, "cli:b", "gold.kpi_summary", "one row", "pass")
        _check(conn, "cli:b", "gold.fact_viewing", "new check", "fail")
    for run_id, users, sessions, hours in (("cli:a", 10, 100, 50.0), ("cli:b", 12, 100, 62.5)):
        with db.transaction(medallion_db) as conn:
            conn.execute("delete from gold.kpi_summary")
            conn.execute(f"insert into gold.kpi_summary ({KPI}) "
                         "values (%s, 1, %s, %s, 12.5, null, null, %s)", (users, sessions, hours, T0))
        changes.snapshot_kpis(run_id, settings=medallion_db)
    return medallion_db


def test_snapshot_is_an_upsert_and_empty_gold_keeps_nothing(medallion_db):
    assert changes.snapshot_kpis("cli:x", settings=medallion_db) is None
    with db.transaction(medallion_db) as conn:
        conn.execute(f"insert into gold.kpi_summary ({KPI}) values (3, 1, 4, 1.5, 2, 50, 25, %s)",
                     (T0,))
    kpis = changes.snapshot_kpis("cli:x", settings=medallion_db)
    again = changes.snapshot_kpis("cli:x", settings=medallion_db)
    assert kpis == again and kpis["users"] == 3 and kpis["total_watch_hours"] == 1.5
    assert kpis["as_of"].startswith("2026-03-01T00:00:00")
    ((run_id, _, stored),) = changes.kpi_history(settings=medallion_db)
    assert run_id == "cli:x" and stored == kpis


def test_diff_of_two_runs(two_runs):
    d = changes.diff("cli:b", "cli:a", settings=two_runs)  # either order: before is the earlier

    assert (d.before.run_id, d.after.run_id) == ("cli:a", "cli:b") and d.has_kpis
    kpis = {k.name: k for k in d.kpis}
    assert kpis["users"].delta == 2 and kpis["users"].delta_pct == pytest.approx(20.0)
    assert kpis["total_watch_hours"].delta == 12.5 and not kpis["sessions"].changed
    assert kpis["avg_completion_pct"].before is None and kpis["avg_completion_pct"].delta is None
    assert kpis["as_of"].changed is False and kpis["as_of"].delta is None

    assert [(t.layer, t.before, t.after, t.delta) for t in d.layers] == [
        ("bronze", 100, 30, -70), ("silver", 90, 120, 30), ("gold", 20, 20, 0)]
    assert [(t.table_name, t.before, t.after) for t in d.tables] == [
        ("bronze.users", 100, 30), ("silver.users", 90, 120), ("gold.kpi_summary", 1, 1)]

    (flip,) = d.checks
    assert (flip.table_name, flip.check_name, flip.before, flip.after, flip.value_after) == (
        "silver.users", "emails are valid", "pass", "fail", 7)

    assert [(f.source_file, f.status) for f in d.files] == [
        ("users_between.csv", "loaded"), ("users_b.csv", "loaded"), ("users_bad.csv", "rejected")]


def test_previous_run_is_the_same_kind_and_successful(medallion_db):
    with db.transaction(medallion_db) as conn:
        _run(conn, "cli:1", T0)
        _run(conn, "cli:2", T0 + timedelta(hours=1), status="failed")
        _run(conn, "dag_4:x", T0 + timedelta(hours=2), dag_id="dag_4_data_transformer_silver")
        _run(conn, "cli:3", T0 + timedelta(hours=3))
    assert changes.previous_run("cli:3", settings=medallion_db) == "cli:1"
    assert changes.previous_run("cli:3", successful_only=False, settings=medallion_db) == "cli:2"
    assert changes.previous_run("dag_4:x", settings=medallion_db) is None
    assert changes.previous_run("cli:1", settings=medallion_db) is None
    assert changes.previous_run("nope", settings=medallion_db) is None


def test_an_unknown_run_says_where_run_ids_are(medallion_db):
    with pytest.raises(changes.UnknownRun, match="no pipeline run 'nope'"):
        changes.diff("nope", "nope", settings=medallion_db)
