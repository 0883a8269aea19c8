"""Large CSV files go into a bronze table of their own (etl/ingest/csv.py, migration 0530).

The size threshold is lowered to 0 so that small files take that path; what bronze
holds must not depend on the path a file took.
"""

from __future__ import annotations

import gzip
import uuid

import psycopg
import pytest
from psycopg import sql
from tests.support.incremental import assert_equals_full_refresh

from etl import db
from etl.ingest import csv as csvload
from etl.ingest import ingest
from etl.transform import transform

USERS = "user_id,email,full_name,country,signup_date,subscription_tier,birth_year,updated_at"
SESSIONS = "session_id,user_id,content_id,started_at,ended_at,watch_seconds,device"
BRONZE_COLUMNS = {
    "users": USERS + ",extra,source_file,source_row",
    "viewing_sessions": SESSIONS + ",extra,source_file,source_row",
}


def tricky_files(raw_dir) -> None:
    """CRLF, blank lines, quoted commas, quotes and newlines, a BOM, cp1252, gzip, a
    header-only file, a file name that needs quoting, and a file with an extra column."""
    def write(name: str, data: bytes) -> None:
        path = raw_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    write("users.csv", (f"\ufeff{USERS}\r\n"
                        'u1,"ana@example.com","Ana, ""the"" first",BR,2024-01-05,free,1990,2024-01-05\r\n'
                        "\r\n   \r\n"
                        'u2,b@example.com,"two\r\nlines",PT,2024-01-06,basic,1985,\r\n'
                        " u3 ,,,,,,,\r\n").encode("utf-8"))
    write("users_cp.csv", f"{USERS}\nu4,c@example.com,Zoë Café,FR,,,,\n".encode("cp1252"))
    write("sessions/viewing_sessions_1, \"odd\" é.csv",
          f"{SESSIONS}\ns1,u1,10,2024-03-01T20:00:00Z,,60,tv\n\ns2,u9,11,x,,,web\n".encode("utf-8"))
    write("viewing_sessions_2.csv.gz", gzip.compress(
        f"{SESSIONS}\ns1,u2,10,2024-03-02T20:00:00Z,2024-03-02T21:00:00Z,,mobile\n".encode("utf-8")))
    write("viewing_sessions_empty.csv", f"{SESSIONS}\n".encode("utf-8"))
    write("viewing_sessions_extra.csv",
          f"{SESSIONS},note\ns3,u1,10,2024-03-03T20:00:00Z,,5,tv,hello\n".encode("utf-8"))


def bronze_rows(settings) -> dict[str, list[tuple]]:
    with db.connect(settings) as conn:
        return {entity: conn.execute(
            f"select {columns}, ingestion_id from bronze.{entity} order by source_file, source_row"
        ).fetchall() for entity, columns in BRONZE_COLUMNS.items()}


def own_tables(settings) -> list[str]:
    with db.connect(settings) as conn:
        return [r[0] for r in conn.execute(
            "select c.relname from pg_class c join pg_inherits i on i.inhrelid = c.oid "
            "where c.relnamespace = 'bronze_files'::regnamespace order by 1")]


@pytest.fixture
def every_file_own_table(monkeypatch):
    monkeypatch.setattr(csvload, "OWN_TABLE_BYTES", 0)


@pytest.fixture
def second_db(medallion_db, template_db, monkeypatch):
    """Another fresh database from the same template; yields its Settings."""
    name = f"medallion_t_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(**medallion_db.libpq_kwargs("postgres"), autocommit=True)
    admin.execute(sql.SQL("create database {} template {}").format(
        sql.Identifier(name), sql.Identifier(template_db)))
    yield medallion_db.model_copy(update={"postgres_db": name})
    admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    admin.close()


def test_bronze_holds_the_same_rows_whichever_table_a_file_went_to(
        medallion_db, second_db, raw_dir, monkeypatch):
    tricky_files(raw_dir)
    shared = ingest(raw_dir, settings=medallion_db)
    monkeypatch.setattr(csvload, "OWN_TABLE_BYTES", 0)
    own = ingest(raw_dir, settings=second_db)

    outcome = lambda report: sorted((f.source_file, f.status, f.rows_loaded, f.encoding)  # noqa: E731
                                    for f in report.files)
    assert outcome(own) == outcome(shared)
    assert all(f.status == "loaded" for f in own.files), own.files
    expected = bronze_rows(medallion_db)
    assert len(expected["users"]) == 4 and len(expected["viewing_sessions"]) == 4
    assert bronze_rows(second_db) == expected
    assert own_tables(medallion_db) == []
    # every loaded file without extra columns, the header-only one included
    ids = {f.source_file: f.ingestion_id for f in own.files}
    assert own_tables(second_db) == sorted(
        f"{entity}_{ids[name]}" for entity, name in [
            ("users", "users.csv"), ("users", "users_cp.csv"),
            ("viewing_sessions", 'sessions/viewing_sessions_1, "odd" é.csv'),
            ("viewing_sessions", "viewing_sessions_2.csv.gz"),
            ("viewing_sessions", "viewing_sessions_empty.csv")])


def test_a_rejected_file_leaves_no_table_and_no_row(medallion_db, raw_dir, every_file_own_table):
    (raw_dir / "viewing_sessions_bad.csv").write_text(
        f"{SESSIONS}\ns1,u1,10,2024-03-01T20:00:00Z,,60,tv\ns2,u1,10,2024-03-01T20:00:00Z,,60\n")
    (raw_dir / "viewing_sessions_good.csv").write_text(
        f"{SESSIONS}\ns3,u1,10,2024-03-01T20:00:00Z,,60,tv\n")
    report = ingest(raw_dir, settings=medallion_db)

    status = {f.source_file: (f.status, f.error or "") for f in report.files}
    assert status["viewing_sessions_good.csv"][0] == "loaded"
    assert status["viewing_sessions_bad.csv"][0] == "rejected"
    assert "data row 2" in status["viewing_sessions_bad.csv"][1]
    good = next(f for f in report.files if f.source_file == "viewing_sessions_good.csv")
    assert own_tables(medallion_db) == [f"viewing_sessions_{good.ingestion_id}"]
    assert [r[0] for r in bronze_rows(medallion_db)["viewing_sessions"]] == ["s3"]


def test_incremental_transforms_find_keys_in_own_tables(medallion_db, raw_dir, worked_example_dir,
                                                        every_file_own_table):
    ingest(worked_example_dir, settings=medallion_db)
    transform(settings=medallion_db)
    later = raw_dir / "later"
    later.mkdir()
    # a new version of a session, a new user, and a session that was an orphan before
    (later / "viewing_sessions_later.csv").write_text(
        f"{SESSIONS}\ns1,u2,10,2024-03-09T20:00:00Z,,120,web\nz9,u7,10,2024-03-09T21:00:00Z,,30,tv\n")
    (later / "users_later.csv").write_text(f"{USERS}\nu7,u7@example.com,Seven,DE,,,,\n")
    report = ingest(worked_example_dir, settings=medallion_db)
    assert {f.source_file: f.status for f in report.files}["later/users_later.csv"] == "loaded"
    transform(settings=medallion_db)

    assert_equals_full_refresh(medallion_db)
    with db.connect(medallion_db) as conn:
        conn.execute("set enable_seqscan = off")  # tiny tables: only whether an index can be used
        plan = "\n".join(r[0] for r in conn.execute(
            "explain select * from bronze.viewing_sessions where silver.trim_ascii(session_id) = 's1'"))
    assert plan.count("_trim_ascii_idx") >= 2, plan  # the index of each of the two own tables
