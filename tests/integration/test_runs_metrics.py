"""Run metrics on the real PostgreSQL: counts, rows per layer, DQ scores, end-to-end latency."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from etl import db, runs

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def _log_file(conn, name, modified_at, finished_at, rows=10, status="loaded"):
    conn.execute(
        """insert into ops.ingestion_log (source_file, sha256, entity, status, rows_loaded,
                                          encoding, error, started_at, finished_at, file_modified_at)
           values (%s, md5(%s), 'users', %s, %s, 'utf-8', %s, %s, %s, %s)""",
        (name, name, status, rows, "bad" if status == "rejected" else None,
         finished_at - timedelta(seconds=1), finished_at, modified_at))


def test_a_run_records_tasks_rows_and_scores(medallion_db):
    runs.start_run("r1", "airflow", "dag_4_data_transformer_silver", "manual__1", started_at=T0)
    # the task body reports rows, then the success callback the final state
    runs.record_task("r1", "build_silver", "running", layer="silver", rows=40, started_at=T0)
    runs.record_task("r1", "build_silver", "success", finished_at=T0 + timedelta(seconds=5))
    runs.record_task("r1", "build_gold", "up_for_retry", try_number=1, started_at=T0)
    runs.record_task("r1", "build_gold", "success", try_number=2, layer="gold", rows=7,
                     started_at=T0 + timedelta(seconds=10), finished_at=T0 + timedelta(seconds=12))
    runs.record_task("r1", "check_gold", "failed", error="QualityGateFailed: x")
    with db.transaction() as conn:
        conn.execute("insert into ops.dq_scores (run_id, layer, score, checks_total, checks_pass, "
                     "checks_warn, checks_fail) values ('r1', 'silver', 92.5, 4, 3, 1, 0)")

    m = runs.finish_run("r1", "failed", error="check_gold failed",
                        finished_at=T0 + timedelta(seconds=30))

    assert (m.status, m.trigger, m.dag_id, m.dag_run_id) == (
        "failed", "airflow", "dag_4_data_transformer_silver", "manual__1")
    assert m.duration_seconds == pytest.approx(30)
    assert (m.tasks_succeeded, m.tasks_failed, m.tasks_retried) == (2, 1, 1)
    assert m.rows == {"bronze": None, "silver": 40, "gold": 7}
    assert m.dq_scores == {"bronze": None, "silver": 92.5, "gold": None}
    assert m.gold_built_at == T0 + timedelta(seconds=12)
    assert m.error == "check_gold failed"
    with db.connect() as conn:
        (duration,) = conn.execute("select duration_seconds from ops.task_runs "
                                   "where run_id = 'r1' and task_id = 'build_silver'").fetchone()
    assert duration == pytest.approx(5)


def test_latency_runs_from_the_earliest_file_since_the_previous_gold_build(medallion_db):
    with db.transaction() as conn:
        _log_file(conn, "old.csv", T0 - timedelta(days=2), T0 - timedelta(days=1))
    runs.record_task("g1", "build_gold", "success", layer="gold", rows=1,
                     finished_at=T0 - timedelta(hours=12))
    first = runs.finish_run("g1", "success")
    assert first.earliest_file_modified_at == T0 - timedelta(days=2)
    assert first.latency_seconds == pytest.approx(timedelta(days=1, hours=12).total_seconds())

    with db.transaction() as conn:
        _log_file(conn, "a.csv", T0 - timedelta(minutes=30), T0 - timedelta(minutes=5))
        _log_file(conn, "b.csv", T0 - timedelta(minutes=50), T0 - timedelta(minutes=4))
        _log_file(conn, "bad.csv", T0 - timedelta(hours=5), T0 - timedelta(minutes=4),
                  rows=0, status="rejected")
        _log_file(conn, "late.csv", T0 - timedelta(hours=6), T0 + timedelta(minutes=5))
    runs.record_task("g2", "build_gold", "success", layer="gold", rows=1, finished_at=T0)
    second = runs.finish_run("g2", "success")

    # old.csv was in the previous build; bad.csv was never loaded; late.csv came after gold
    assert second.earliest_file_modified_at == T0 - timedelta(minutes=50)
    assert second.latency_seconds == pytest.approx(50 * 60)


def test_rows_fall_back_to_ingestion_log_and_model_runs(medallion_db):
    with db.transaction() as conn:
        conn.execute("insert into ops.ingestion_log (source_file, entity, status, rows_loaded, run_id)"
                     " values ('u.csv', 'users', 'loaded', 11, 'r2'), "
                     "('v.csv', 'users', 'loaded', 4, 'r2'), ('w.csv', 'users', 'loaded', 99, 'x')")
        conn.execute("insert into ops.model_runs (run_id, model, layer, started_at, finished_at, "
                     "rows, status) values ('r2', 'silver.users', 'silver', now(), now(), 8, 'success'),"
                     " ('r2', 'gold.kpi_summary', 'gold', now(), %s, 1, 'success')", (T0,))
    runs.start_run("r2")
    m = runs.finish_run("r2", "success")
    assert m.trigger == "cli"
    assert m.rows == {"bronze": 15, "silver": 8, "gold": 1}
    assert m.gold_built_at == T0


def test_start_and_finish_are_idempotent(medallion_db):
    runs.start_run("r3", "cli", started_at=T0)
    runs.start_run("r3", "cli", started_at=T0 + timedelta(minutes=1))
    runs.record_task("r3", "ingest", "success", layer="bronze", rows=3)
    runs.record_task("r3", "ingest", "success", layer="bronze", rows=3)
    a = runs.finish_run("r3", "success", finished_at=T0 + timedelta(minutes=2))
    b = runs.finish_run("r3", "success", finished_at=T0 + timedelta(minutes=2))
    assert a == b
    assert a.started_at == T0 and a.tasks_succeeded == 1 and a.rows["bronze"] == 3
