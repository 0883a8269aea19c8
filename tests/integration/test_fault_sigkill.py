"""`medallion ingest` killed with SIGKILL in the middle of a large file.

The real CLI runs as a subprocess on one large generated file. The test watches
PostgreSQL's own COPY progress (pg_stat_progress_copy) for that process's backend;
once rows are streaming, it freezes the process (SIGSTOP) to prove the COPY is
mid-way, then kills it (SIGKILL). Then:

- nothing of the file is in bronze and ops.ingestion_log has no `loaded` row for it;
- for a JSON file, any MongoDB document written before the kill belongs to an
  ingestion that never committed, and the next load removes it;
- the next `medallion ingest` loads the file fully, once (rows = data rows of the
  file), and a third run loads nothing more.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from etl import db

pytestmark = pytest.mark.integration

MEDALLION = str(Path(sys.executable).with_name("medallion"))
SESSIONS_HEADER = "session_id,user_id,content_id,started_at,ended_at,watch_seconds,device"
SESSION_ROWS = 1_200_000  # about 90 MB: seconds of COPY, so it can be caught half-way
CONTENT_DOCS = 50_000
GUARD_SECONDS = 600  # only against hanging forever; nothing asserts on time


def _write_sessions(path: Path, rows: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(SESSIONS_HEADER + "\n")
        step = 100_000
        for start in range(0, rows, step):
            f.write("".join(
                f"s{i:09d},u{i % 5000:06d},{i % 300},2026-03-01T20:{i % 60:02d}:00Z,"
                f"2026-03-01T21:{i % 60:02d}:00Z,{3600 + i % 7},tv\n"
                for i in range(start, min(rows, start + step))))


def _write_content(path: Path, docs: int) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for start in range(0, docs, 10_000):
            f.write("".join(json.dumps({
                "content_id": i, "title": f"Title {i}", "content_type": "movie",
                "genres": ["drama", "comedy"], "duration_min": 90 + i % 30,
                "updated_at": "2026-01-01T00:00:00Z"}) + "\n"
                for i in range(start, min(docs, start + 10_000))))


def _start_ingest(raw: Path, cwd: Path) -> subprocess.Popen:
    with open(cwd / "killed.out", "wb") as out, open(cwd / "killed.err", "wb") as err:
        return subprocess.Popen([MEDALLION, "ingest", "--raw-dir", str(raw), "--no-progress"],
                                stdout=out, stderr=err, cwd=cwd, env=os.environ.copy())


def _copy_progress(settings, table: str) -> tuple[int, int] | None:
    """(backend pid, tuples processed) of a COPY into `table` in our database, if one runs.

    A large CSV file is copied into a table of its own, created by the loading transaction
    (etl/ingest/csv.py): a COPY into a table this session cannot see yet is that one.
    """
    with db.connect(settings, autocommit=True) as conn:
        row = conn.execute(
            "select p.pid, p.tuples_processed from pg_stat_progress_copy p "
            "where p.datname = current_database() and p.type = 'PIPE' "
            "and (p.relid = %s::regclass or not exists (select from pg_class c where c.oid = p.relid))",
            (table,)).fetchone()
    return (row[0], row[1]) if row else None


def _kill_mid_copy(proc: subprocess.Popen, settings, table: str, total: int,
                   extra_ready=lambda: True) -> int:
    """SIGKILL `proc` while its COPY into `table` is half-way; returns the rows it had sent."""
    deadline = time.monotonic() + GUARD_SECONDS
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"`medallion ingest` ended (exit {proc.returncode}) before its COPY "
                            f"into {table} could be caught half-way: make the file bigger")
            progress = _copy_progress(settings, table)
            if progress and progress[1] > 0 and extra_ready():
                os.kill(proc.pid, signal.SIGSTOP)
                break
            assert time.monotonic() < deadline, "no COPY seen: is the ingestion stuck?"
            time.sleep(0.02)
        # Frozen: the COPY is still open, part of the file sent, the rest not.
        frozen = _copy_progress(settings, table)
        assert frozen is not None, "the COPY ended before the process was frozen"
        backend, sent = frozen
        assert 0 < sent < total, (sent, total)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # PostgreSQL aborts the transaction when it reads the closed connection.
    while True:
        with db.connect(settings, autocommit=True) as conn:
            alive = conn.execute("select 1 from pg_stat_activity where pid = %s",
                                 (backend,)).fetchone()
        if not alive:
            return sent
        assert time.monotonic() < deadline, f"backend {backend} outlived its killed client"
        time.sleep(0.05)


def _log_rows(settings, source_file: str) -> list[tuple]:
    with db.connect(settings) as conn:
        return conn.execute("select ingestion_id, status, rows_loaded from ops.ingestion_log "
                            "where source_file = %s order by ingestion_id", (source_file,)).fetchall()


def _count(settings, table: str) -> int:
    with db.connect(settings) as conn:
        return conn.execute(f"select count(*) from bronze.{table}").fetchone()[0]  # noqa: S608


def _ingest_again(raw: Path, cwd: Path) -> str:
    done = subprocess.run([MEDALLION, "ingest", "--raw-dir", str(raw), "--no-progress"],
                          capture_output=True, text=True, cwd=cwd, env=os.environ.copy(),
                          timeout=GUARD_SECONDS)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return done.stdout


def test_sigkill_mid_csv_copy_leaves_nothing_and_the_next_run_loads_once(medallion_db, raw_dir,
                                                                         tmp_path):
    name = "sessions/viewing_sessions_big.csv"
    _write_sessions(raw_dir / name, SESSION_ROWS)
    try:
        proc = _start_ingest(raw_dir, tmp_path)
        sent = _kill_mid_copy(proc, medallion_db, "bronze.viewing_sessions", SESSION_ROWS)
        assert sent > 0

        # No partial rows anywhere.
        assert _count(medallion_db, "viewing_sessions") == 0
        assert [r for r in _log_rows(medallion_db, name) if r[1] == "loaded"] == []

        _ingest_again(raw_dir, tmp_path)
        log = _log_rows(medallion_db, name)
        loaded = [r for r in log if r[1] == "loaded"]
        assert len(loaded) == 1 and loaded[0][2] == SESSION_ROWS, log
        with db.connect(medallion_db) as conn:
            rows, first, last, distinct, ids = conn.execute(
                "select count(*), min(source_row), max(source_row), count(distinct session_id), "
                "array_agg(distinct ingestion_id) from bronze.viewing_sessions").fetchone()
            queued = conn.execute("select count(*) from ops.ingestion_queue").fetchone()[0]
        assert (rows, first, last, distinct) == (SESSION_ROWS, 1, SESSION_ROWS, SESSION_ROWS)
        assert ids == [loaded[0][0]] and queued == 0

        # Once: another run finds the same bytes already loaded.
        _ingest_again(raw_dir, tmp_path)
        assert _count(medallion_db, "viewing_sessions") == SESSION_ROWS
        assert [r for r in _log_rows(medallion_db, name) if r[1] == "loaded"] == loaded
    finally:
        (raw_dir / name).unlink(missing_ok=True)


def test_sigkill_mid_json_load_leaves_no_committed_document(medallion_db, raw_dir, tmp_path):
    name = "content_big.jsonl"
    _write_content(raw_dir / name, CONTENT_DOCS)
    client = db.mongo_client(medallion_db)
    coll = client[medallion_db.mongo_db]["bronze_content_json"]
    try:
        proc = _start_ingest(raw_dir, tmp_path)
        # Wait until MongoDB has received batches too, so the kill leaves documents behind.
        _kill_mid_copy(proc, medallion_db, "bronze.content", CONTENT_DOCS,
                       extra_ready=lambda: coll.count_documents({"source_file": name}, limit=1) > 0)

        assert _count(medallion_db, "content") == 0
        log = _log_rows(medallion_db, name)
        assert [r for r in log if r[1] == "loaded"] == []
        # What MongoDB holds belongs to no committed ingestion (removed by the next load).
        left = coll.distinct("ingestion_id", {"source_file": name})
        with db.connect(medallion_db) as conn:
            committed = conn.execute("select count(*) from ops.ingestion_log where status = 'loaded' "
                                     "and ingestion_id = any(%s)", (left,)).fetchone()[0]
        assert committed == 0

        _ingest_again(raw_dir, tmp_path)
        loaded = [r for r in _log_rows(medallion_db, name) if r[1] == "loaded"]
        assert len(loaded) == 1 and loaded[0][2] == CONTENT_DOCS
        assert _count(medallion_db, "content") == CONTENT_DOCS
        assert coll.count_documents({}) == CONTENT_DOCS
        assert coll.distinct("ingestion_id") == [loaded[0][0]]
        assert len(coll.distinct("source_row")) == CONTENT_DOCS
    finally:
        client.close()
        (raw_dir / name).unlink(missing_ok=True)
