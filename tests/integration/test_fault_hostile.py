"""Hostile raw files: each is rejected cleanly or loaded as text, never executed, and never
keeps a good file beside it from loading.

Every case runs the real `medallion ingest` as a subprocess on a raw folder holding the
hostile file and one good users file, then reads the database: the CLI must exit 0 with
no traceback, the good file must be `loaded` with all its rows, and the hostile file must
be either `rejected` with an error a person can act on, or `loaded` with its bytes as text.
Peak memory of the ingestion process is measured (os.wait4) where a file is built to
exhaust it. Big temp files are removed after each test.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from etl import db

pytestmark = pytest.mark.integration

MEDALLION = str(Path(sys.executable).with_name("medallion"))
USERS_HEADER = "user_id,email,full_name,country,signup_date,subscription_tier,birth_year,updated_at"
SESSIONS_HEADER = "session_id,user_id,content_id,started_at,ended_at,watch_seconds,device"
GOOD_USERS = [
    "g1,ana@example.com,Ana Lima,BR,2024-01-05,premium,1990,2024-01-05T10:00:00Z",
    "g2,bob@example.com,Bob,US,2024-02-01,free,1985,2024-02-01T08:00:00Z",
    "g3,cy@example.com,Cy,DE,2024-02-02,basic,1970,2024-02-02T08:00:00Z",
]
MiB = 1 << 20
GOOD = "zz/users_good.csv"
INJECTION = "'); drop table bronze.users; --"
DOLLARS = "$$; drop table ops.ingestion_log; $$"


# ------------------------------------------------------------------ helpers

def _write_good(raw: Path) -> None:
    """The good file sorts after every hostile one, so a loader that gives up is caught."""
    (raw / "zz").mkdir()
    (raw / GOOD).write_text("\n".join([USERS_HEADER, *GOOD_USERS]) + "\n", encoding="utf-8")


def _ingest(raw: Path, cwd: Path) -> tuple[int, str, str, int]:
    """Run `medallion ingest`; (exit code, stdout, stderr, peak RSS of the process in bytes)."""
    out, err, rss = cwd / "ingest.out", cwd / "ingest.err", cwd / "ingest.maxrss"
    with open(out, "wb") as fo, open(err, "wb") as fe:
        proc = subprocess.run([sys.executable, "-c", _MEASURED, str(rss), MEDALLION, "ingest",
                               "--raw-dir", str(raw), "--no-progress"],
                              stdout=fo, stderr=fe, cwd=cwd, env=os.environ.copy())
    peak = int(rss.read_text()) * 1024  # kilobytes on Linux
    return proc.returncode, out.read_text(errors="replace"), err.read_text(errors="replace"), peak


# Linux folds the parent's memory high-water mark into a child's ru_maxrss at exec,
# so a process forked straight from this (large) pytest process would report pytest's
# peak. A small launcher forks the ingestion and reports that grandchild's own peak.
_MEASURED = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[2:])\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def _log(settings) -> dict[str, tuple[str, int, str | None]]:
    with db.connect(settings) as conn:
        rows = conn.execute("select source_file, status, rows_loaded, error from ops.ingestion_log "
                            "order by ingestion_id").fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _assert_clean_run(code: int, out: str, err: str, settings) -> dict:
    """The CLI survived and the good file loaded fully; returns the ingestion log."""
    assert "Traceback" not in err, err[-3000:]
    assert code == 0, f"medallion ingest exited {code}\nstdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}"
    log = _log(settings)
    assert log.get(GOOD) == ("loaded", len(GOOD_USERS), None), log
    with db.connect(settings) as conn:
        good = conn.execute("select user_id from bronze.users where source_file = %s "
                            "order by source_row", (GOOD,)).fetchall()
    assert [r[0] for r in good] == ["g1", "g2", "g3"]
    return log


def _assert_rejected_or_loaded(log: dict, name: str, *, expect_rows: int | None = None) -> str:
    """The hostile file was settled either way, never left pending; returns its status."""
    assert name in log, f"{name} has no ops.ingestion_log row: {log}"
    status, rows, error = log[name]
    assert status in ("rejected", "loaded"), log[name]
    if status == "rejected":
        assert error and name in error and len(error) < 2000, f"not an actionable error: {error!r}"
        assert rows == 0
    elif expect_rows is not None:
        assert rows == expect_rows
    return status


def _bronze_count(settings, table: str, source_file: str) -> int:
    with db.connect(settings) as conn:
        return conn.execute(f"select count(*) from bronze.{table} where source_file = %s",  # noqa: S608
                            (source_file,)).fetchone()[0]


@pytest.fixture
def work(tmp_path):
    """A folder for the subprocess's output; big generated files inside go with it."""
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)


# ------------------------------------------------------------------ the cases

def test_header_with_10000_columns(medallion_db, raw_dir, work):
    _write_good(raw_dir)
    extras = [f"extra_{i:05d}" for i in range(1, 10_001 - 8)]
    header = ",".join([*USERS_HEADER.split(","), *extras])
    row = "w1,wide@example.com,Wide,US,2024-01-01,free,1990,2024-01-01T00:00:00Z," + ",".join(
        f"v{i}" for i in range(len(extras)))
    name = "users_wide.csv"
    (raw_dir / name).write_text(f"{header}\n{row}\n", encoding="utf-8")

    code, out, err, _peak = _ingest(raw_dir, work)

    log = _assert_clean_run(code, out, err, medallion_db)
    status = _assert_rejected_or_loaded(log, name, expect_rows=1)
    if status == "loaded":  # extra columns are kept in bronze (contract, section 1)
        with db.connect(medallion_db) as conn:
            user_id, extra = conn.execute(
                "select user_id, extra from bronze.users where source_file = %s", (name,)).fetchone()
        assert user_id == "w1"
        assert len(extra) == len(extras) and extra["extra_09992"] == "v9991"
    else:
        assert _bronze_count(medallion_db, "users", name) == 0


def test_100_mb_single_line_csv(medallion_db, raw_dir, work):
    """One 100 MB line and no newline: a header that never ends."""
    _write_good(raw_dir)
    name = "viewing_sessions_one_line.csv"
    with open(raw_dir / name, "wb") as f:
        f.write((SESSIONS_HEADER + ",").encode())
        block = b"a" * MiB
        for _ in range(100):
            f.write(block)

    code, out, err, peak = _ingest(raw_dir, work)

    log = _assert_clean_run(code, out, err, medallion_db)
    _assert_rejected_or_loaded(log, name, expect_rows=0)
    assert _bronze_count(medallion_db, "viewing_sessions", name) == 0
    # Never the whole line in memory at once, let alone copies of it.
    assert peak < 400 * MiB, f"peak RSS {peak / MiB:.0f} MiB"


def test_100_mb_single_line_json_document(medallion_db, raw_dir, work):
    """One 100 MB line holding one document: bigger than MongoDB's 16 MiB limit."""
    _write_good(raw_dir)
    name = "content_huge.json"
    with open(raw_dir / name, "wb") as f:
        f.write(b'[{"content_id": "huge", "title": "')
        block = b"t" * MiB
        for _ in range(100):
            f.write(block)
        f.write(b'"}]')
    # A JSON file after it in byte order must still load.
    (raw_dir / "content_z_small.jsonl").write_text(
        '{"content_id": 1, "title": "After the huge one"}\n', encoding="utf-8")

    code, out, err, _peak = _ingest(raw_dir, work)

    log = _assert_clean_run(code, out, err, medallion_db)
    assert log.get("content_z_small.jsonl") == ("loaded", 1, None), log
    status = _assert_rejected_or_loaded(log, name, expect_rows=1)
    expected = 1 if status == "loaded" else 0
    assert _bronze_count(medallion_db, "content", name) == expected
    client = db.mongo_client(medallion_db)
    try:
        coll = client[medallion_db.mongo_db]["bronze_content_json"]
        assert coll.count_documents({"source_file": name}) == expected
    finally:
        client.close()


def test_sql_in_fields_header_and_file_name_is_loaded_as_text(medallion_db, raw_dir, work):
    _write_good(raw_dir)
    quoted = INJECTION.replace('"', '""')
    evil_column = 'x"); drop table bronze.users; --'
    users_name = "users_'); drop table ops.ingestion_log; --.csv"
    header = USERS_HEADER + ',"' + evil_column.replace('"', '""') + '"'
    rows = [
        f'e1,"{quoted}@x.io","{quoted}",US,2024-01-01,free,1990,2024-01-01T00:00:00Z,"{DOLLARS}"',
        f'"{quoted}",e2@x.io,"{DOLLARS}",US,2024-01-01,free,1990,2024-01-01T00:00:00Z,'
        "\\.",
    ]
    (raw_dir / users_name).write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    content_name = "content_sql.jsonl"
    docs = [{"content_id": "c1", "title": INJECTION, INJECTION: DOLLARS, "genres": [DOLLARS]},
            {"content_id": INJECTION, "title": "$1 %s {0} :name ?"}]
    (raw_dir / content_name).write_text("\n".join(json.dumps(d) for d in docs) + "\n", encoding="utf-8")

    code, out, err, _peak = _ingest(raw_dir, work)

    log = _assert_clean_run(code, out, err, medallion_db)
    assert log[users_name] == ("loaded", 2, None), log
    assert log[content_name] == ("loaded", 2, None), log
    with db.connect(medallion_db) as conn:
        bronze = conn.execute(
            "select user_id, email, full_name, extra from bronze.users where source_file = %s "
            "order by source_row", (users_name,)).fetchall()
        content = [r[0] for r in conn.execute(
            "select doc from bronze.content where source_file = %s order by source_row",
            (content_name,))]
        tables = {r[0] for r in conn.execute(
            "select format('%I.%I', schemaname, tablename) from pg_tables "
            "where schemaname in ('bronze', 'ops')")}
    assert {"bronze.users", "ops.ingestion_log"} <= tables
    assert bronze == [
        ("e1", f"{INJECTION}@x.io", INJECTION, {evil_column: DOLLARS}),
        (INJECTION, "e2@x.io", DOLLARS, {evil_column: "\\."}),
    ]
    assert content == docs
    client = db.mongo_client(medallion_db)
    try:
        coll = client[medallion_db.mongo_db]["bronze_content_json"]
        mongo = list(coll.find({"source_file": content_name}, {"_id": 0, "content_id": 1, "title": 1}))
    finally:
        client.close()
    assert sorted(mongo, key=repr) == sorted(
        [{"content_id": d["content_id"], "title": d["title"]} for d in docs], key=repr)

    # The values go on through silver as data, too.
    run = subprocess.run([MEDALLION, "transform"], capture_output=True, text=True, cwd=work,
                         env=os.environ.copy())
    assert run.returncode == 0, run.stderr[-3000:]
    with db.connect(medallion_db) as conn:
        users = dict(conn.execute("select user_id, full_name from silver.users").fetchall())
        titles = dict(conn.execute("select content_id, title from silver.content").fetchall())
    assert users["e1"] == INJECTION and users[INJECTION] == DOLLARS
    assert titles == {"c1": INJECTION, INJECTION: "$1 %s {0} :name ?"}


def test_copy_end_of_data_marker_is_data_not_the_end(medallion_db, raw_dir, work):
    """`\\.` alone on a line ends COPY data in PostgreSQL: rows after it must not vanish."""
    _write_good(raw_dir)
    bare, quoted = "users_eod_bare.csv", "users_eod_quoted.csv"
    row = GOOD_USERS[0].replace("g1", "{}")
    (raw_dir / bare).write_text("\n".join(
        [USERS_HEADER, row.format("b1"), "\\.", row.format("b2")]) + "\n", encoding="utf-8")
    (raw_dir / quoted).write_text("\n".join(
        [USERS_HEADER, row.format("q1").replace("Ana Lima", '"Ana\n\\.\nLima"'), row.format("q2")])
        + "\n", encoding="utf-8")

    code, out, err, _peak = _ingest(raw_dir, work)

    log = _assert_clean_run(code, out, err, medallion_db)
    # A one-field row under an eight-column header rejects the file (contract, section 1):
    # never a load of the rows before the marker only.
    assert _assert_rejected_or_loaded(log, bare) == "rejected"
    assert _bronze_count(medallion_db, "users", bare) == 0
    assert log[quoted] == ("loaded", 2, None), log
    with db.connect(medallion_db) as conn:
        names = conn.execute("select full_name from bronze.users where source_file = %s "
                             "order by source_row", (quoted,)).fetchall()
    assert names == [("Ana\n\\.\nLima",), ("Ana Lima",)]


def test_zip_bomb_gz(medallion_db, raw_dir, work):
    """About 1 MB on disk, 1 GiB of NUL bytes decompressed."""
    _write_good(raw_dir)
    name = "viewing_sessions_bomb.csv.gz"
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
    zeros = bytes(16 * MiB)
    with open(raw_dir / name, "wb") as f:
        for _ in range(64):
            f.write(squeeze.compress(zeros))
        f.write(squeeze.flush())
    assert (raw_dir / name).stat().st_size < 4 * MiB
    with gzip.open(raw_dir / name) as check:  # the bomb is what it claims
        assert check.read(MiB) == bytes(MiB)

    code, out, err, peak = _ingest(raw_dir, work)

    log = _assert_clean_run(code, out, err, medallion_db)
    assert _assert_rejected_or_loaded(log, name) == "rejected"
    assert _bronze_count(medallion_db, "viewing_sessions", name) == 0
    assert peak < 400 * MiB, f"peak RSS {peak / MiB:.0f} MiB while reading a 1 GiB bomb"


def test_zip_bomb_of_text_after_a_valid_header(medallion_db, raw_dir, work):
    """A valid header, then 256 MiB of blank lines: decompresses to nothing to load."""
    _write_good(raw_dir)
    name = "users_bomb.csv.gz"
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    newlines = b"\n" * (16 * MiB)
    with open(raw_dir / name, "wb") as f:
        f.write(squeeze.compress((USERS_HEADER + "\n").encode()))
        for _ in range(16):
            f.write(squeeze.compress(newlines))
        f.write(squeeze.compress((GOOD_USERS[0].replace("g1", "b1") + "\n").encode()))
        f.write(squeeze.flush())
    assert (raw_dir / name).stat().st_size < 2 * MiB

    code, out, err, peak = _ingest(raw_dir, work)

    log = _assert_clean_run(code, out, err, medallion_db)
    status = _assert_rejected_or_loaded(log, name, expect_rows=1)
    assert _bronze_count(medallion_db, "users", name) == (1 if status == "loaded" else 0)
    assert peak < 400 * MiB, f"peak RSS {peak / MiB:.0f} MiB"


def test_zip_bomb_of_one_endless_row(medallion_db, raw_dir, work):
    """A valid header, then one data row whose last field is 128 MiB: about 130 KB of .gz."""
    _write_good(raw_dir)
    name = "viewing_sessions_endless_row.csv.gz"
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(raw_dir / name, "wb") as f:
        f.write(squeeze.compress((SESSIONS_HEADER + "\n").encode()))
        f.write(squeeze.compress(b"s1,u1,1,2026-01-01T00:00:00Z,,60,"))
        block = b"x" * (16 * MiB)
        for _ in range(8):
            f.write(squeeze.compress(block))
        f.write(squeeze.compress(b"\n"))
        f.write(squeeze.flush())
    assert (raw_dir / name).stat().st_size < MiB

    code, out, err, peak = _ingest(raw_dir, work)

    log = _assert_clean_run(code, out, err, medallion_db)
    status = _assert_rejected_or_loaded(log, name, expect_rows=1)
    assert _bronze_count(medallion_db, "viewing_sessions", name) == (1 if status == "loaded" else 0)
    assert peak < 400 * MiB, f"peak RSS {peak / MiB:.0f} MiB for a 128 MiB row"


def test_content_nested_thousands_deep_is_rejected_not_a_traceback(medallion_db, raw_dir, work):
    """Issue 12's report: one document nested a few thousand levels deep stopped the run with
    a RecursionError, stayed queued and blocked every later run."""
    _write_good(raw_dir)
    name = "content_deep.json"
    (raw_dir / name).write_text("[" + '{"a": ' * 5000 + "1" + "}" * 5000 + "]", encoding="utf-8")
    (raw_dir / "content_z_small.jsonl").write_text('{"content_id": 1}\n', encoding="utf-8")

    for _run in range(2):  # the next run is not blocked either
        code, out, err, _peak = _ingest(raw_dir, work)
        log = _assert_clean_run(code, out, err, medallion_db)
        assert _assert_rejected_or_loaded(log, name) == "rejected"
        assert "nested deeper than the JSON parser goes" in log[name][2]
        assert log["content_z_small.jsonl"] == ("loaded", 1, None), log
    with db.connect(medallion_db) as conn:
        assert conn.execute("select count(*) from ops.ingestion_queue").fetchone()[0] == 0


def test_zip_bomb_of_valid_rows_over_the_size_limit(medallion_db, raw_dir, work, monkeypatch):
    """Valid rows without end: about 0.5 MB of .gz, 64 MiB of rows; the limit set small."""
    _write_good(raw_dir)
    name = "viewing_sessions_valid_bomb.csv.gz"
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    row = b"s1,u1,1,2026-01-01T00:00:00Z,,60,tv\n"
    block = row * (MiB // len(row))
    with open(raw_dir / name, "wb") as f:
        f.write(squeeze.compress((SESSIONS_HEADER + "\n").encode()))
        for _ in range(64):
            f.write(squeeze.compress(block))
        f.write(squeeze.flush())
    monkeypatch.setenv("INGEST_MAX_FILE_BYTES", str(8 * MiB))

    code, out, err, _peak = _ingest(raw_dir, work)

    log = _assert_clean_run(code, out, err, medallion_db)
    assert _assert_rejected_or_loaded(log, name) == "rejected"
    assert "INGEST_MAX_FILE_BYTES" in log[name][2] and "8,388,608 bytes" in log[name][2]
    assert _bronze_count(medallion_db, "viewing_sessions", name) == 0


@pytest.mark.parametrize("command", [["ingest", "--no-progress"], ["transform"], ["check"]])
def test_a_command_before_init_says_to_run_init_in_one_line(template_db, work, command):
    """A database without the schema: one line naming `medallion init`, exit 2, no traceback."""
    import uuid

    import psycopg
    from psycopg import sql

    from etl.settings import get_settings

    name = f"medallion_empty_{uuid.uuid4().hex[:10]}"
    admin = get_settings().libpq_kwargs("postgres")
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        raw = work / "raw"
        raw.mkdir()
        env = {**os.environ, "POSTGRES_DB": name, "RAW_DATA_PATH": str(raw)}
        run = subprocess.run([MEDALLION, *command], capture_output=True, text=True, cwd=work, env=env,
                             timeout=300)
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert run.returncode == 2, (run.returncode, run.stderr[-3000:])
    [line] = [x for x in run.stderr.splitlines() if x.startswith("error:")]
    assert "no medallion schema yet" in line and "run `medallion init` first" in line
