"""Two runs triggered at once on the same raw folder and database: nothing is loaded twice.

The real CLI runs twice in parallel (two `medallion run`, then two `medallion ingest`
over many files, some of them byte-identical copies). Afterwards each content (SHA-256)
has exactly one `loaded` row, bronze holds each loaded file's rows exactly once, and
silver is what the generator says a single run must produce.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from etl import db, synth

pytestmark = pytest.mark.integration

MEDALLION = str(Path(sys.executable).with_name("medallion"))
GUARD_SECONDS = 900  # only against hanging forever
BRONZE = {"users": "bronze.users", "viewing_sessions": "bronze.viewing_sessions",
          "content": "bronze.content"}


def _parallel(args_list: list[list[str]], cwd: Path) -> list[subprocess.CompletedProcess]:
    """Start every command at once, then wait for all of them."""
    procs = []
    for i, args in enumerate(args_list):
        with open(cwd / f"p{i}.out", "wb") as out, open(cwd / f"p{i}.err", "wb") as err:
            procs.append((args, subprocess.Popen([MEDALLION, *args], stdout=out, stderr=err,
                                                 cwd=cwd, env=os.environ.copy())))
    done = []
    for i, (args, proc) in enumerate(procs):
        proc.wait(timeout=GUARD_SECONDS)
        done.append(subprocess.CompletedProcess(
            args, proc.returncode, (cwd / f"p{i}.out").read_text(errors="replace"),
            (cwd / f"p{i}.err").read_text(errors="replace")))
    return done


def _assert_all_ok(results: list[subprocess.CompletedProcess]) -> None:
    for r in results:
        assert r.returncode == 0 and "Traceback" not in r.stderr, (
            f"{' '.join(r.args)} exited {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}")


def _assert_loaded_once(settings, files: dict[str, tuple[str, int]]) -> dict[str, int]:
    """files: source_file -> (entity, data rows). Returns bronze rows per entity."""
    with db.connect(settings) as conn:
        loaded = conn.execute(
            "select source_file, ingestion_id, rows_loaded from ops.ingestion_log "
            "where status = 'loaded'").fetchall()
        per_sha = conn.execute(
            "select sha256, count(*) from ops.ingestion_log where status = 'loaded' "
            "group by sha256 having count(*) > 1").fetchall()
        bronze = {e: dict(conn.execute(
            f"select source_file, count(*) from {t} group by source_file").fetchall())  # noqa: S608
            for e, t in BRONZE.items()}
        dup_rows = {e: conn.execute(
            f"select count(*) from (select ingestion_id, source_row from {t} "  # noqa: S608
            "group by 1, 2 having count(*) > 1) d").fetchone()[0] for e, t in BRONZE.items()}
        queued = conn.execute("select count(*) from ops.ingestion_queue").fetchone()[0]
    assert per_sha == [], "the same bytes were loaded more than once"
    names = [r[0] for r in loaded]
    assert sorted(names) == sorted(set(names)), f"a file has several 'loaded' rows: {sorted(names)}"
    by_file = {r[0]: r[2] for r in loaded}
    for name, (entity, rows) in files.items():
        assert by_file.get(name) == rows, (name, by_file.get(name), rows)
        assert bronze[entity].get(name) == rows, (name, bronze[entity].get(name), rows)
    assert set().union(*(set(b) for b in bronze.values())) == set(by_file), "bronze rows of no loaded file"
    assert dup_rows == {e: 0 for e in BRONZE}
    assert queued == 0
    return {e: sum(b.values()) for e, b in bronze.items()}


def test_two_runs_at_once_load_nothing_twice_and_silver_is_right(medallion_db, raw_dir, tmp_path):
    report = synth.generate(raw_dir, users=300, sessions=8000, contents=80, days=40, seed=5,
                            dirty_rate=0.05)

    results = _parallel([["run", "--raw-dir", str(raw_dir)], ["run", "--raw-dir", str(raw_dir)]],
                        tmp_path)

    _assert_all_ok(results)
    files = {f.path: (f.entity, f.rows) for f in report.files if f.entity}
    bronze = _assert_loaded_once(medallion_db, files)
    with db.connect(medallion_db) as conn:
        silver = {e: conn.execute(f"select count(*) from silver.{e}").fetchone()[0]  # noqa: S608
                  for e in BRONZE}
        rejected = {e: dict(conn.execute(
            f"select reason, count(*) from silver.{e}_rejected group by reason").fetchall())  # noqa: S608
            for e in BRONZE}
        runs = conn.execute("select status from ops.pipeline_runs where trigger = 'cli'").fetchall()
        kpi_sessions = conn.execute("select sessions from gold.kpi_summary").fetchone()[0]
    for entity, exp in report.expected.items():
        assert bronze[entity] == exp.bronze_rows, entity
        assert silver[entity] == exp.silver_rows, entity
        assert rejected[entity] == exp.rejected, entity
    assert kpi_sessions == report.expected["viewing_sessions"].silver_rows
    assert sorted(runs) == [("success",), ("success",)]


def test_two_ingests_at_once_over_many_files_and_copies(medallion_db, raw_dir, tmp_path):
    report = synth.generate(raw_dir, users=200, sessions=6000, contents=60, days=150, seed=9,
                            dirty_rate=0.02)
    files = {f.path: (f.entity, f.rows) for f in report.files if f.entity}
    # Byte-identical copies under other names: one of each pair loads, the other is a duplicate.
    copies = {}
    for path in list(files):
        copy = f"copies/{Path(path).name}"
        (raw_dir / "copies").mkdir(exist_ok=True)
        shutil.copy(raw_dir / path, raw_dir / copy)
        copies[path] = copy

    results = _parallel([["ingest", "--raw-dir", str(raw_dir), "--no-progress"]] * 3, tmp_path)

    _assert_all_ok(results)
    with db.connect(medallion_db) as conn:
        statuses = conn.execute("select source_file, status from ops.ingestion_log "
                                "where entity is not null").fetchall()
    loaded_names = {name for name, status in statuses if status == "loaded"}
    expected = {}
    for original, copy in copies.items():
        winners = {original, copy} & loaded_names
        assert len(winners) == 1, (original, copy, winners)
        expected[winners.pop()] = files[original]
        for name in (original, copy):
            assert {s for n, s in statuses if n == name} <= {"loaded", "skipped_duplicate"}, name
    _assert_loaded_once(medallion_db, expected)
