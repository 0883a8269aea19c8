"""The transform on real PostgreSQL: the accounting identity, idempotence, equivalence of
incremental and full runs, independence from the session TimeZone, failure handling, the
model-run history and the report."""

from __future__ import annotations

import argparse
import re
import shutil

import pytest
from tests.support.transform import checksum, fetch, load_bronze, load_worked_example

from etl import db, sql_runner
from etl.errors import MedallionError
from etl.transform import (GOLD_TABLES, SILVER_TABLES, build_gold, build_silver, main,
                           transform)

ALL_TABLES = [f"silver.{t}" for t in SILVER_TABLES] + [f"gold.{t}" for t in GOLD_TABLES]


def _checksums(settings) -> dict[str, str]:
    return {name: checksum(settings, name) for name in ALL_TABLES}


def _load_more(settings):
    """Sessions around midnight UTC / New York and across a DST change, plus duplicates."""
    load_bronze(settings, "users", "users_2.csv", [
        {"user_id": "u3", "country": "us", "updated_at": "2024-03-10T06:59:59Z"},
        {"user_id": "u1", "country": "PT", "updated_at": "2024-01-01T00:00:00Z"},  # older: loses
    ])
    load_bronze(settings, "viewing_sessions", "viewing_sessions_2.csv", [
        {"session_id": "t1", "user_id": "u3", "content_id": "10", "started_at": "2024-03-10 01:30:00",
         "ended_at": "2024-03-10T03:30:00-04:00", "watch_seconds": "", "device": "web"},
        {"session_id": "t2", "user_id": "u3", "content_id": "11", "started_at": "2024-03-10T04:59:59Z",
         "ended_at": "", "watch_seconds": "59", "device": "tv"},
        {"session_id": "t3", "user_id": "u1", "content_id": "11", "started_at": "2024-11-03 05:30:00+00:00",
         "ended_at": "2024-11-03T01:40:00-05:00", "watch_seconds": "", "device": "mobile"},
        {"session_id": "s2", "user_id": "u1", "content_id": "10", "started_at": "2024-03-02T23:59:59-23:59",
         "ended_at": "", "watch_seconds": "42", "device": "tablet"},
    ])


def test_identity_holds_per_entity_against_independent_counts(medallion_db):
    load_worked_example(medallion_db)
    _load_more(medallion_db)
    report = build_silver(run_id="identity-run")
    counts = fetch(medallion_db, """
        select 'users' as entity,
               (select count(*) from bronze.users) as bronze,
               (select count(*) from silver.users) as silver,
               (select count(*) from silver.users_rejected) as rejected,
               (select count(*) - count(distinct k) from (
                    select nullif(silver.trim_ascii(user_id), '') as k from bronze.users) b
                 where k is not null) as superseded
        union all
        select 'viewing_sessions',
               (select count(*) from bronze.viewing_sessions),
               (select count(*) from silver.viewing_sessions),
               (select count(*) from silver.viewing_sessions_rejected),
               (select count(*) - count(distinct k) from (
                    select nullif(silver.trim_ascii(session_id), '') as k
                    from bronze.viewing_sessions) b where k is not null)
        union all
        select 'content',
               (select count(*) from bronze.content),
               (select count(*) from silver.content),
               (select count(*) from silver.content_rejected),
               0""")
    for row in counts:
        acc = report.accounting[row["entity"]]
        assert acc.balanced
        assert (acc.bronze, acc.silver, acc.rejected) == (row["bronze"], row["silver"], row["rejected"])
        if row["entity"] != "content":
            assert acc.superseded == row["superseded"]
        assert row["bronze"] == row["silver"] + acc.superseded + row["rejected"]
    recorded = fetch(medallion_db, "select entity, bronze_rows, silver_rows, superseded_rows, "
                                   "rejected_rows from ops.entity_accounting "
                                   "where run_id = 'identity-run' order by entity")
    assert [r["entity"] for r in recorded] == ["content", "users", "viewing_sessions"]
    assert all(r["bronze_rows"] == r["silver_rows"] + r["superseded_rows"] + r["rejected_rows"]
               for r in recorded)
    # every bronze row is exactly one of silver / superseded / rejected: no row is both
    both = fetch(medallion_db, """
        select count(*) as n from silver.viewing_sessions s
        join silver.viewing_sessions_rejected r using (ingestion_id, source_row)""")
    assert both == [{"n": 0}]


def test_twice_gives_identical_tables_and_incremental_equals_full(medallion_db):
    load_worked_example(medallion_db)
    transform()
    first = _checksums(medallion_db)
    transform()
    assert _checksums(medallion_db) == first
    _load_more(medallion_db)
    transform()                       # the default (incremental) run after new bronze
    incremental = _checksums(medallion_db)
    assert incremental != first
    transform(full_refresh=True)
    assert _checksums(medallion_db) == incremental


def test_results_do_not_depend_on_the_session_timezone(medallion_db, monkeypatch):
    load_worked_example(medallion_db)
    _load_more(medallion_db)
    transform()
    in_utc = _checksums(medallion_db)
    with monkeypatch.context() as m:
        m.setattr(db, "_SESSION_OPTIONS", "-c TimeZone=America/New_York")
        with db.connect(medallion_db) as conn:
            assert conn.execute("show timezone").fetchone()[0] == "America/New_York"
        # make sure the previous tables are gone before rebuilding in New York time
        with db.connect(medallion_db) as conn:
            conn.execute("truncate " + ", ".join(ALL_TABLES))
            conn.commit()
        transform(full_refresh=True)
    assert _checksums(medallion_db) == in_utc


def test_failed_model_rolls_back_records_and_stops_the_chain(medallion_db, tmp_path, monkeypatch):
    load_worked_example(medallion_db)
    transform(run_id="good-run")
    gold_before = {t: checksum(medallion_db, t) for t in ALL_TABLES if t.startswith("gold.")}
    broken = tmp_path / "sql"
    shutil.copytree(sql_runner.SQL_DIR / "silver", broken / "silver")
    shutil.copytree(sql_runner.SQL_DIR / "gold", broken / "gold")
    path = broken / "gold" / "fact_viewing.sql"
    path.write_text(path.read_text() + "\n-- mode: all\nselect 1 / 0;\n")
    monkeypatch.setattr(sql_runner, "SQL_DIR", broken)
    _load_more(medallion_db)
    with pytest.raises(MedallionError) as err:
        transform(run_id="bad-run")
    assert "gold.fact_viewing" in str(err.value) and "division by zero" in str(err.value)
    assert isinstance(err.value, sql_runner.ModelFailed)
    # the failed model's table keeps its previous contents; later models did not run
    assert {t: checksum(medallion_db, t) for t in gold_before} == gold_before
    runs = {r["model"]: r for r in fetch(medallion_db, "select * from ops.model_runs "
                                                       "where run_id = 'bad-run'")}
    assert runs["gold.fact_viewing"]["status"] == "failed"
    assert "division by zero" in runs["gold.fact_viewing"]["error"]
    assert runs["gold.fact_viewing"]["finished_at"] is not None
    assert {runs[m]["status"] for m in runs if m.startswith("silver.")} == {"success"}
    assert {runs[m]["status"] for m in runs if m.startswith("gold.") and m != "gold.fact_viewing"} \
        == {"skipped"}
    assert len(runs) == 3 + len(GOLD_TABLES)
    # the history of the good run is kept
    good = fetch(medallion_db, "select status, count(*) as n from ops.model_runs "
                               "where run_id = 'good-run' group by status")
    assert good == [{"status": "success", "n": 3 + len(GOLD_TABLES)}]
    assert err.value.report.models[-1].status in {"failed", "skipped"}


INDEXES = """
    select schemaname, tablename, indexname, indexdef from pg_indexes
    where schemaname in ('silver', 'gold')
    union all
    select n.nspname, c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
    from pg_constraint c join pg_namespace n on n.oid = c.connamespace
    where n.nspname in ('silver', 'gold')
    order by 1, 2, 3"""


# The monthly partitions of gold.fact_viewing, which a rebuild creates for the months present.
_MONTH_PARTITION = re.compile(r"fact_viewing_(\d{4}_\d{2})$")


def _indexes(settings) -> list[dict]:
    """INDEXES but those of the monthly partitions, each checked to carry exactly the
    indexes of gold.fact_viewing (as its DEFAULT partition does)."""
    rows = fetch(settings, INDEXES)
    default = {(r["indexname"], r["indexdef"]) for r in rows
               if r["tablename"].endswith("fact_viewing_default")}
    months = {m.group(1) for r in rows if (m := _MONTH_PARTITION.search(r["tablename"]))}
    for month in months:
        own = {(r["indexname"].replace(month, "default"), r["indexdef"].replace(month, "default"))
               for r in rows if r["tablename"].endswith(f"fact_viewing_{month}")}
        assert own == default, month
    return [r for r in rows if not _MONTH_PARTITION.search(r["tablename"])]


def test_indexes_and_constraints_survive_a_rebuild(medallion_db, tmp_path, monkeypatch):
    before = _indexes(medallion_db)
    assert any(r["indexname"] == "viewing_sessions_pkey" for r in before)
    assert any(r["indexname"] == "fact_viewing_default_pkey" for r in before)
    load_worked_example(medallion_db)
    transform()
    after = fetch(medallion_db, INDEXES)
    assert any(_MONTH_PARTITION.search(r["tablename"]) for r in after)  # months were partitioned
    assert _indexes(medallion_db) == before
    broken = tmp_path / "sql"
    shutil.copytree(sql_runner.SQL_DIR / "silver", broken / "silver")
    shutil.copytree(sql_runner.SQL_DIR / "gold", broken / "gold")
    path = broken / "silver" / "viewing_sessions.sql"
    path.write_text(path.read_text() + "\n-- mode: all\nselect 1 / 0;\n")
    monkeypatch.setattr(sql_runner, "SQL_DIR", broken)
    with pytest.raises(MedallionError):
        transform()
    assert _indexes(medallion_db) == before
    # the primary key still guards the rebuilt table
    with db.connect(medallion_db) as conn, pytest.raises(Exception, match="duplicate key"):
        conn.execute("insert into silver.users select * from silver.users limit 1")


def test_model_runs_and_report(medallion_db, capsys):
    load_worked_example(medallion_db)
    silver = build_silver(run_id="r1")
    assert [m.layer for m in silver.models] == ["silver"] * 3
    gold = build_gold(run_id="r1")
    assert {m.name for m in gold.models} == {f"gold.{t}" for t in GOLD_TABLES}
    runs = fetch(medallion_db, "select model, layer, status, rows, started_at, finished_at, "
                               "duration_seconds, full_refresh from ops.model_runs where run_id = 'r1'")
    assert len(runs) == 3 + len(GOLD_TABLES)
    assert all(r["status"] == "success" and r["finished_at"] >= r["started_at"] for r in runs)
    rows = {r["model"]: r["rows"] for r in runs}
    assert rows["silver.users"] == 2 and rows["silver.viewing_sessions"] == 3
    assert rows["gold.fact_viewing"] == 3 and rows["gold.kpi_summary"] == 1
    # users and content do not depend on each other; sessions waits for both
    order = {r["model"]: r for r in runs}
    assert order["silver.viewing_sessions"]["started_at"] >= max(
        order["silver.users"]["finished_at"], order["silver.content"]["finished_at"])
    assert order["gold.daily_viewing"]["started_at"] >= order["gold.fact_viewing"]["finished_at"]

    assert main(argparse.Namespace(full_refresh=True, layer=None)) == 0
    out = capsys.readouterr().out
    for text in ["rows per layer", "silver.users", "gold.kpi_summary", "accounting",
                 "viewing_sessions", "8 = 3 + 1 + 4", "orphan_content", "invalid_timestamp",
                 "missing_key", "models", "silver.viewing_sessions", "full refresh"]:
        assert text in out, text
    assert fetch(medallion_db, "select count(distinct run_id) as n, bool_or(full_refresh) as f "
                               "from ops.model_runs") == [{"n": 2, "f": True}]
    assert main(argparse.Namespace(full_refresh=False, layer="gold")) == 0
    out = capsys.readouterr().out
    assert "gold.fact_viewing" in out and "silver.users " not in out
