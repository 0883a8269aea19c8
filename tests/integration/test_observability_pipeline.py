"""`medallion run` keeps its KPIs, then watches for anomalies and freshness; a failure of
the watch is logged and never changes the run's outcome."""

from __future__ import annotations

import logging
import shutil

import psycopg

from etl import db, pipeline
from etl.observability import anomalies, changes


def test_two_runs_keep_kpis_watch_and_compare(medallion_db, worked_example_dir, tmp_path):
    first = pipeline.run(worked_example_dir, settings=medallion_db, checks=False)
    more = tmp_path / "more"
    more.mkdir()
    shutil.copy(worked_example_dir / "users.csv", more / "users_extra.csv")  # same bytes: skipped
    (more / "users_2.csv").write_text(
        "user_id,email,full_name,country,signup_date,subscription_tier,birth_year,updated_at\n"
        "u9,u9@example.com,New User,PT,2024-03-01,free,1990,2024-03-04T00:00:00Z\n",
        encoding="utf-8")
    shutil.copytree(worked_example_dir, more, dirs_exist_ok=True)
    second = pipeline.run(more, settings=medallion_db, checks=False)

    for report in (first, second):
        steps = dict(report.steps)
        assert steps["snapshot_kpis"]["users"] >= 2
        watch = steps["watch"]
        assert watch.errors == {} and watch.anomalies == []  # two runs: no baseline yet
        assert watch.freshness and not watch.stale_tables
    assert changes.previous_run(second.run_id, settings=medallion_db) == first.run_id

    diff = changes.diff(first.run_id, second.run_id, settings=medallion_db)
    kpis = {k.name: k for k in diff.kpis}
    assert (kpis["users"].before, kpis["users"].after) == (2, 3)
    assert {f.source_file for f in diff.files} >= {"users_2.csv"}
    assert all(f.run_id == second.run_id for f in diff.files)
    with db.connect(medallion_db) as conn:
        (snapshots,) = conn.execute("select count(*) from ops.kpi_history").fetchone()
    assert snapshots == 2


def test_a_failing_watch_is_logged_and_the_run_still_succeeds(medallion_db, worked_example_dir,
                                                              monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(anomalies, "detect", broken)
    with caplog.at_level(logging.ERROR, logger="etl.observability.watch"):
        report = pipeline.run(worked_example_dir, settings=medallion_db, checks=False)

    assert report.status == "success"
    watch = dict(report.steps)["watch"]
    assert watch.errors == {"anomalies": "OperationalError: server closed the connection unexpectedly"}
    assert watch.freshness  # the other part still ran
    (record,) = [r for r in caplog.records if "anomalies check after run" in r.getMessage()]
    assert record.exc_info is not None
