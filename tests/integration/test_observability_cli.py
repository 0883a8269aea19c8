"""`medallion anomalies`, `medallion freshness` and `medallion diff` against a throwaway
database holding a synthetic history."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from etl import db
from etl.cli import main

NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def history(medallion_db):
    with db.transaction(medallion_db) as conn:
        for i in range(12):
            at = NOW - timedelta(hours=6 * (12 - i))
            run_id = f"cli:{i:02d}"
            conn.execute("""insert into ops.pipeline_runs (run_id, status, started_at)
                            values (%s, 'success', %s)""", (run_id, at))
            conn.execute(
                """insert into ops.model_runs (run_id, model, layer, started_at, finished_at, rows,
                                               status) values (%s, 'silver.users', 'silver', %s, %s,
                                               %s, 'success')""",
                (run_id, at, at + timedelta(seconds=1), 0 if i == 11 else 1000 + i))
            conn.execute(
                """insert into ops.model_runs (run_id, model, layer, started_at, finished_at, rows,
                                               status) values (%s, 'gold.kpi_summary', 'gold', %s,
                                               %s, 1, 'success')""",
                (run_id, at, at + timedelta(seconds=1)))
    return medallion_db


def test_anomalies_flags_and_lists(history, capsys):
    assert main(["anomalies", "--no-alert"]) == 0
    out = capsys.readouterr().out
    assert "1 anomaly flagged" in out and "silver.users rows written" in out and "below" in out
    assert main(["anomalies", "--no-detect", "--strict"]) == 1
    assert "cli:11" in capsys.readouterr().out


def test_freshness_lists_every_gold_table(history, capsys):
    assert main(["freshness", "--no-alert"]) == 0
    out = capsys.readouterr().out
    assert "gold.kpi_summary" in out and "fresh" in out
    assert "STALE" in out  # the other gold tables were never built
    assert main(["freshness", "--no-alert", "--strict"]) == 1


def test_diff_of_a_run_with_its_previous_one(history, capsys):
    assert main(["diff", "cli:11"]) == 0
    out = capsys.readouterr().out
    assert "before: cli:10" in out and "after:  cli:11" in out
    assert re.search(r"silver\.users +1010 +0 +-1010", out)
    assert main(["diff", "cli:00"]) == 2
    assert "no previous successful run" in capsys.readouterr().err
    assert main(["diff", "cli:00", "nope"]) == 2
    assert "no pipeline run 'nope'" in capsys.readouterr().err
