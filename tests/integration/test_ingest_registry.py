"""The registry rules (etl/ingest/registration.py): duplicates, order, re-runs, the
register/load split, retries."""

from __future__ import annotations

import argparse
import os
import shutil
import threading

import psycopg
import pytest

from etl import db
from etl.ingest import command, loading, registration
from etl.ingest import ingest, load_registered, register_files
from etl.schema import MONGO_COLLECTION

from test_ingest_files import (SESSION_ROW, SESSIONS_HEADER, USER_ROW, USERS_HEADER,
                                                 bronze, log_rows, write)


def all_log(settings) -> list[tuple]:
    with db.connect(settings) as conn:
        return conn.execute("select ingestion_id, source_file, status, rows_loaded from ops.ingestion_log "
                            "order by ingestion_id").fetchall()


def counts(settings) -> tuple[int, int, int, int]:
    with db.connect(settings) as conn:
        pg = conn.execute("select (select count(*) from bronze.users), "
                          "(select count(*) from bronze.viewing_sessions), "
                          "(select count(*) from bronze.content)").fetchone()
    return (*pg, db.mongo_database(settings)[MONGO_COLLECTION].count_documents({}))


def test_the_report_lists_what_the_ingestion_log_records(medallion_db, worked_example_dir):
    # The worked example's own numbers are asserted once, in test_worked_example.py.
    report = ingest(worked_example_dir)
    table = {f.source_file: (f.status, f.rows_loaded) for f in report.files}
    assert {status for status, _ in table.values()} == {"loaded", "ignored"}
    logged = {r[1]: (r[2], r[3]) for r in all_log(medallion_db)}
    assert logged == table


def test_rerun_never_duplicates(medallion_db, worked_example_dir):
    first = ingest(worked_example_dir)
    before = counts(medallion_db), all_log(medallion_db)
    second = ingest(worked_example_dir)
    assert (counts(medallion_db), all_log(medallion_db)) == before
    assert {f.source_file: f.status for f in second.files} == {
        "content.json": "skipped_duplicate", "users.csv": "skipped_duplicate",
        "viewing_sessions.csv": "skipped_duplicate", "README.txt": "ignored"}
    assert second.rows_loaded == 0 and first.rows_loaded == 15


def test_same_bytes_under_another_name_is_skipped_duplicate(medallion_db, raw_dir):
    write(raw_dir / "users.csv", f"{USERS_HEADER}\n{USER_ROW}\n")
    ingest(raw_dir)
    (raw_dir / "archive").mkdir()
    shutil.copy(raw_dir / "users.csv", raw_dir / "archive" / "users_copy.csv")
    report = ingest(raw_dir)
    copy = report.status_of("archive/users_copy.csv")
    assert copy.status == "skipped_duplicate"
    [logged] = log_rows(medallion_db, "archive/users_copy.csv")
    assert logged["status"] == "skipped_duplicate" and logged["rows_loaded"] == 0
    assert logged["sha256"] == log_rows(medallion_db, "users.csv")[0]["sha256"]
    assert bronze(medallion_db, "users", "archive/users_copy.csv") == []


def test_two_identical_files_in_one_run_load_once_in_path_order(medallion_db, raw_dir):
    write(raw_dir / "users_b.csv", f"{USERS_HEADER}\n{USER_ROW}\n")
    write(raw_dir / "users_a.csv", f"{USERS_HEADER}\n{USER_ROW}\n")
    report = ingest(raw_dir)
    assert [(f.source_file, f.status) for f in report.files] == [
        ("users_a.csv", "loaded"), ("users_b.csv", "skipped_duplicate")]
    assert counts(medallion_db)[0] == 1


def test_changed_bytes_under_the_same_name_are_a_new_ingestion(medallion_db, raw_dir):
    path = write(raw_dir / "users.csv", f"{USERS_HEADER}\n{USER_ROW}\n")
    first = ingest(raw_dir).status_of("users.csv")
    write(path, f"{USERS_HEADER}\n{USER_ROW}\nu2,b@x.io,B,US,2024-01-01,free,1991,2024-01-01\n")
    second = ingest(raw_dir).status_of("users.csv")
    assert (first.status, second.status) == ("loaded", "loaded")
    assert second.ingestion_id > first.ingestion_id
    assert [r["rows_loaded"] for r in log_rows(medallion_db, "users.csv")] == [1, 2]
    assert counts(medallion_db)[0] == 3


def test_copy_of_a_rejected_file_is_judged_again(medallion_db, raw_dir):
    bad = f"{SESSIONS_HEADER}\n{SESSION_ROW}\ns2,u1\n"
    write(raw_dir / "viewing_sessions.csv", bad)
    ingest(raw_dir)
    write(raw_dir / "viewing_sessions_again.csv", bad)
    report = ingest(raw_dir)
    again = report.status_of("viewing_sessions_again.csv")
    assert again.status == "rejected" and "data row 2 (line 3)" in again.error
    assert [r["status"] for r in log_rows(medallion_db, "viewing_sessions_again.csv")] == ["rejected"]
    # the unchanged rejected file is not logged a second time, but still reported
    assert report.status_of("viewing_sessions.csv").status == "rejected"
    assert len(log_rows(medallion_db, "viewing_sessions.csv")) == 1


def test_rejected_file_fixed_in_place_loads(medallion_db, raw_dir):
    path = write(raw_dir / "users.csv", f"{USERS_HEADER}\n{USER_ROW},oops\n")
    assert ingest(raw_dir).status_of("users.csv").status == "rejected"
    write(path, f"{USERS_HEADER}\n{USER_ROW}\n")
    assert ingest(raw_dir).status_of("users.csv").status == "loaded"
    assert [r["status"] for r in log_rows(medallion_db, "users.csv")] == ["rejected", "loaded"]


def test_files_found_recursively_by_base_name_in_byte_order(medallion_db, raw_dir):
    for name in ["b/users.csv", "a/Users_2.CSV", "B/users_1.csv", "users/notes.txt",
                 "users_dir/viewing.csv", "content/readme.md", "Viewing_Sessions_x.csv", "users.csv.bak"]:
        rows = USER_ROW if "sessions" not in name.lower() else SESSION_ROW
        header = USERS_HEADER if "sessions" not in name.lower() else SESSIONS_HEADER
        write(raw_dir / name, f"{header}\n{rows}\n{rows}\n" if name.endswith("csv") or name.endswith("CSV")
              else f"{header}\n{rows}\n")
    report = ingest(raw_dir)
    assert [(f.source_file, f.status) for f in report.files] == [
        ("B/users_1.csv", "loaded"), ("Viewing_Sessions_x.csv", "loaded"), ("a/Users_2.CSV", "skipped_duplicate"),
        ("b/users.csv", "skipped_duplicate"), ("content/readme.md", "ignored"), ("users.csv.bak", "ignored"),
        ("users/notes.txt", "ignored"), ("users_dir/viewing.csv", "ignored")]
    loaded = [r for r in all_log(medallion_db) if r[2] == "loaded"]
    assert [r[1] for r in loaded] == ["B/users_1.csv", "Viewing_Sessions_x.csv"]
    assert loaded[0][0] < loaded[1][0]  # ingestion ids follow the order


def test_ingestion_order_is_byte_order_of_path_within_a_kind(medallion_db, raw_dir):
    names = ["users_b.csv", "users_B.csv", "sub/users.csv", "users_a.csv", "users_ä.csv", "Z/users.csv"]
    for i, name in enumerate(names):
        write(raw_dir / name, f"{USERS_HEADER}\nu{i},a@x.io,A,BR,2024-01-01,free,1990,2024-01-01\n")
    report = register_files(raw_dir)
    expected = sorted(names, key=lambda n: n.encode())
    assert report.pending_csv == expected
    loaded = load_registered("csv")
    assert [f.source_file for f in loaded.files] == expected
    with db.connect(medallion_db) as conn:
        by_id = [r[0] for r in conn.execute("select source_file from ops.ingestion_log where status = 'loaded' "
                                            "order by ingestion_id")]
        by_c = [r[0] for r in conn.execute('select source_file from ops.ingestion_log where status = \'loaded\' '
                                           'order by source_file collate "C"')]
    assert by_id == by_c == expected


def test_register_then_load_by_kind(medallion_db, worked_example_dir):
    reg = register_files(worked_example_dir, run_id="dag-run-1")
    assert reg.pending_csv == ["users.csv", "viewing_sessions.csv"] and reg.pending_json == ["content.json"]
    assert [r[2] for r in all_log(medallion_db)] == ["ignored"]  # only four statuses ever logged
    assert register_files(worked_example_dir).pending_csv == reg.pending_csv  # idempotent
    csv_report = load_registered("csv", run_id="dag-run-1")
    assert csv_report.rows_by_entity == {"users": 4, "viewing_sessions": 8}
    assert counts(medallion_db) == (4, 8, 0, 0)
    json_report = load_registered("json", batch_size=1)
    assert json_report.rows_by_entity == {"content": 3} and counts(medallion_db) == (4, 8, 3, 3)
    assert load_registered("csv").files == [] and load_registered("json").files == []
    assert {r["run_id"] for r in log_rows(medallion_db, "users.csv")} == {"dag-run-1"}


def test_file_changed_between_register_and_load_is_not_loaded_stale(medallion_db, raw_dir):
    path = write(raw_dir / "users.csv", f"{USERS_HEADER}\n{USER_ROW}\n")
    register_files(raw_dir)
    write(path, f"{USERS_HEADER}\n{USER_ROW}\n{USER_ROW}\n")
    os.utime(path, ns=(1, 1))
    result = load_registered("csv").status_of("users.csv")
    assert result.status == "rejected" and "changed after it was registered" in result.error
    assert ingest(raw_dir).status_of("users.csv").rows_loaded == 2  # judged again


def test_file_only_touched_between_register_and_load_still_loads(medallion_db, raw_dir):
    path = write(raw_dir / "users.csv", f"{USERS_HEADER}\n{USER_ROW}\n")
    register_files(raw_dir)
    os.utime(path, ns=(1, 1))  # new mtime, same bytes
    assert load_registered("csv").status_of("users.csv").rows_loaded == 1


def test_file_changed_and_changed_back_loads_on_the_next_run(medallion_db, raw_dir):
    original = f"{USERS_HEADER}\n{USER_ROW}\n"
    path = write(raw_dir / "users.csv", original)
    register_files(raw_dir)
    write(path, original + USER_ROW + "\n")
    assert load_registered("csv").status_of("users.csv").status == "rejected"
    write(path, original)
    assert ingest(raw_dir).status_of("users.csv").rows_loaded == 1


def test_raw_dir_argument_overrides_settings_and_sets_source_file(medallion_db, raw_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("RAW_DATA_PATH", str(tmp_path / "elsewhere"))
    from etl.settings import reset_settings
    reset_settings()
    write(raw_dir / "2024" / "01" / "users.csv", f"{USERS_HEADER}\n{USER_ROW}\n")
    report = ingest(raw_dir)
    assert report.status_of("2024/01/users.csv").status == "loaded"
    assert bronze(medallion_db, "users", "2024/01/users.csv", "source_file") == [("2024/01/users.csv",)]
    assert (raw_dir / "2024" / "01" / "users.csv").exists()  # raw files are never moved


def test_transient_error_is_retried_without_half_loading(medallion_db, raw_dir, monkeypatch):
    write(raw_dir / "content.json", '[{"content_id": 1}, {"content_id": 2}, {"content_id": 3}]')
    write(raw_dir / "users.csv", f"{USERS_HEADER}\n{USER_ROW}\n")
    real_json, real_csv = loading._load_json, loading._load_csv
    calls = {"json": 0, "csv": 0}
    monkeypatch.setattr("etl.ingest.retry.time.sleep", lambda s: None)

    def flaky_json(conn, entry, iid, writer, on_bytes):
        calls["json"] += 1
        rows = real_json(conn, entry, iid, writer, on_bytes)  # all documents written...
        if calls["json"] == 1:
            conn.close()  # ...then the connection drops before the commit
        return rows

    def flaky_csv(conn, entry, iid, on_bytes):
        calls["csv"] += 1
        if calls["csv"] == 1:
            raise psycopg.errors.SerializationFailure("could not serialize access")
        return real_csv(conn, entry, iid, on_bytes)

    monkeypatch.setattr(loading, "_load_json", flaky_json)
    monkeypatch.setattr(loading, "_load_csv", flaky_csv)
    report = ingest(raw_dir)
    assert calls == {"json": 2, "csv": 2}
    assert {f.source_file: (f.status, f.rows_loaded) for f in report.files} == {
        "content.json": ("loaded", 3), "users.csv": ("loaded", 1)}
    assert counts(medallion_db) == (1, 0, 3, 3)
    ids = {d["ingestion_id"] for d in db.mongo_database(medallion_db)[MONGO_COLLECTION].find()}
    assert ids == {report.status_of("content.json").ingestion_id}


def test_orphan_mongo_documents_of_an_uncommitted_load_are_removed(medallion_db, raw_dir):
    coll = db.mongo_database(medallion_db)[MONGO_COLLECTION]
    coll.insert_one({"content_id": 1, "ingestion_id": 999, "source_row": 1, "source_file": "content.json"})
    write(raw_dir / "content.json", '[{"content_id": 1}]')
    ingest(raw_dir)
    assert coll.count_documents({"ingestion_id": 999}) == 0 and coll.count_documents({}) == 1


@pytest.mark.parametrize("other_name", ["viewing_sessions.csv", "viewing_sessions_copy.csv"])
def test_concurrent_loads_of_the_same_bytes_load_once(medallion_db, raw_dir, tmp_path, other_name):
    rows = "".join(f"s{i},u1,10,2024-03-01T20:00:00Z,,60,tv\n" for i in range(20000))
    write(raw_dir / "viewing_sessions.csv", SESSIONS_HEADER + "\n" + rows)
    other = tmp_path / "other"
    write(other / other_name, SESSIONS_HEADER + "\n" + rows)
    reports = {}

    def run(name, folder):
        reports[name] = ingest(folder)

    threads = [threading.Thread(target=run, args=(n, d)) for n, d in (("a", raw_dir), ("b", other))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(f.status for r in reports.values() for f in r.files)
    # a run's loader also takes files the other run queued; whoever comes second sees a duplicate
    assert statuses.count("loaded") == 1 and set(statuses) == {"loaded", "skipped_duplicate"}
    assert counts(medallion_db)[1] == 20000
    assert [r[2] for r in all_log(medallion_db)].count("loaded") == 1


def test_cli_prints_a_table_and_exits_by_strictness(medallion_db, worked_example_dir, capsys):
    write(worked_example_dir / "users_broken.csv", "nope\n")
    args = argparse.Namespace(raw_dir=worked_example_dir, strict=False, no_progress=True)
    assert command.main(args) == 0
    out = capsys.readouterr().out
    assert "viewing_sessions.csv" in out and "loaded" in out and "utf-8" in out
    assert "users_broken.csv: line 1: header is missing required column(s)" in out
    assert "3 loaded, 1 rejected, 15 rows" in out
    assert command.main(argparse.Namespace(raw_dir=worked_example_dir, strict=True, no_progress=True)) == 1


def test_missing_raw_dir_is_a_clear_error(medallion_db, tmp_path):
    from etl.errors import ConfigError
    with pytest.raises(ConfigError, match="RAW_DATA_PATH"):
        ingest(tmp_path / "nope")


def test_unchanged_files_are_not_read_again_on_a_rerun(medallion_db, worked_example_dir, monkeypatch):
    ingest(worked_example_dir)
    read = []
    real = registration.inspect
    monkeypatch.setattr(registration, "inspect",
                        lambda path, *rest: read.append(path.name) or real(path, *rest))
    assert {f.status for f in ingest(worked_example_dir).files} == {"skipped_duplicate", "ignored"}
    assert read == []
    path = worked_example_dir / "users.csv"
    path.write_bytes(path.read_bytes() + b"u3,c@x.io,C,US,2024-01-01,free,1990,2024-01-01\n")
    assert ingest(worked_example_dir).status_of("users.csv").rows_loaded == 5
    assert read == ["users.csv"]


def test_a_second_json_loader_never_takes_in_flight_documents_for_orphans(medallion_db, raw_dir):
    write(raw_dir / "content_a.jsonl", "".join(f'{{"content_id": {i}}}\n' for i in range(30000)))
    register_files(raw_dir)
    coll = db.mongo_database(medallion_db)[MONGO_COLLECTION]
    first = threading.Thread(target=load_registered, args=("json",), kwargs={"batch_size": 100})
    first.start()
    while coll.count_documents({}) == 0 and first.is_alive():
        pass  # wait until the first loader has documents in MongoDB, uncommitted in PostgreSQL
    assert first.is_alive()
    second = load_registered("json")  # its orphan sweep must not take the first loader's documents
    first.join()
    assert second.files == []  # the first loader had the file
    assert counts(medallion_db)[2:] == (30000, 30000)
