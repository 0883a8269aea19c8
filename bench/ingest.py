"""Benchmark: `medallion ingest` against `psql \\copy` on a large viewing_sessions CSV.

Run on demand (not a test):  .venv/bin/python bench/ingest.py [--rows 2000000] [--trials 3]

Both sides load the same file, interleaved, each trial into a fresh target:
`psql \\copy` into a logged all-text table of the seven columns, and the whole
`medallion ingest` process (start-up, discovery, hashing, logging, metadata
columns, indexes) into a freshly initialised database. Reports the median of
the per-trial throughput ratios (ingest / \\copy; goal >= 0.8) and the peak RSS
of the ingest process, then peak RSS again on a larger file (goal < 300 MB and
flat as files grow).

On a busy machine wall times follow the scheduler more than the work, so each side's
CPU seconds are reported too: the client process's own (rusage) plus those of its
server backends, sampled from /proc while it runs (PostgreSQL on this machine only;
the last few milliseconds of a backend are missed). The load average is printed with
every trial. The goal is the wall-time ratio; the CPU ratio says what the work costs.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from etl.settings import get_settings, reset_settings  # noqa: E402

HEADER = "session_id,user_id,content_id,started_at,ended_at,watch_seconds,device\n"
DEVICES = ("mobile", "tv", "web", "tablet")


def write_csv(path: Path, rows: int, seed: int = 7, metadata: bool = False) -> int:
    """A plain viewing_sessions CSV; returns its size in bytes.

    With `metadata`, no header and each row starts with ingestion_id, source_file,
    source_row: what the ingest byte pass hands PostgreSQL.
    """
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as out:
        if not metadata:
            out.write(HEADER)
        batch = []
        for i in range(rows):
            day = 1 + i % 28
            start = f"2024-03-{day:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z"
            end = f"2024-03-{day:02d}T23:59:00Z" if i % 3 else ""
            meta = f"1,viewing_sessions.csv,{i + 1}," if metadata else ""
            batch.append(f"{meta}s{i},u{rng.randrange(100000)},c{rng.randrange(5000)},{start},{end},"
                         f"{rng.randrange(7200)},{DEVICES[i % 4]}\n")
            if len(batch) == 10000:
                out.write("".join(batch))
                batch = []
        out.write("".join(batch))
    return path.stat().st_size


TICKS = os.sysconf("SC_CLK_TCK")


class ServerCpu(threading.Thread):
    """CPU seconds of the client backends connected to one database, sampled every 20 ms
    from /proc while a child process runs; `seconds` is None when /proc cannot see them."""

    def __init__(self, database: str):
        super().__init__(daemon=True)
        self.database = database
        self.last: dict[int, float] = {}
        self.visible = True
        self._stop_event = threading.Event()

    def run(self) -> None:
        with admin() as conn:
            while True:
                for (pid,) in conn.execute(
                        "select pid from pg_stat_activity where datname = %s "
                        "and backend_type = 'client backend'", (self.database,)).fetchall():
                    try:
                        with open(f"/proc/{pid}/stat") as f:
                            fields = f.read().rsplit(")", 1)[1].split()
                    except OSError:
                        self.visible = False  # another host, or it just ended
                        continue
                    self.last[pid] = (int(fields[11]) + int(fields[12])) / TICKS
                if self._stop_event.wait(0.02):
                    return

    def stop(self) -> float | None:
        self._stop_event.set()
        self.join()
        return sum(self.last.values()) if self.last else None


def run_measured(argv: list[str], env: dict, database: str) -> tuple[float, int, float, float | None]:
    """(wall seconds, peak RSS in MB, client CPU seconds, server CPU seconds) of one child process."""
    server = ServerCpu(database)
    server.start()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    server_cpu = server.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {err[-2000:]}")
    return elapsed, usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime, server_cpu


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def admin():
    return psycopg.connect(**get_settings().libpq_kwargs("postgres"), autocommit=True)


def fresh_database(prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin() as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return name


def drop_database(name: str) -> None:
    with admin() as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def env_for(database: str) -> dict:
    s = get_settings()
    env = dict(os.environ, POSTGRES_DB=database, PGHOST=s.postgres_host, PGPORT=str(s.postgres_port),
               PGUSER=s.postgres_user, PGDATABASE=database)
    if s.postgres_password_value:
        env["PGPASSWORD"] = s.postgres_password_value
    return env


def psql_copy(csv_path: Path, database: str) -> tuple:
    with psycopg.connect(**get_settings().libpq_kwargs(database), autocommit=True) as conn:
        conn.execute("drop table if exists bench_copy")
        conn.execute("create table bench_copy (session_id text, user_id text, content_id text, "
                     "started_at text, ended_at text, watch_seconds text, device text)")
    cmd = f"\\copy bench_copy from '{csv_path}' with (format csv, header)"
    return run_measured(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", cmd], env_for(database),
                        database)


BRONZE_DDL = """
create table bench_bronze (
    session_id text, user_id text, content_id text, started_at text, ended_at text,
    watch_seconds text, device text, extra jsonb, ingestion_id bigint not null,
    source_file text not null, source_row bigint not null,
    ingestion_timestamp timestamptz not null default now());
create index on bench_bronze using brin (ingestion_id)"""


def psql_copy_bronze(csv_path: Path, database: str) -> tuple:
    """The floor set by the bronze table itself: \\copy of pre-numbered rows into its shape."""
    with psycopg.connect(**get_settings().libpq_kwargs(database), autocommit=True) as conn:
        conn.execute("drop table if exists bench_bronze")
        conn.execute(BRONZE_DDL)
    cols = ("ingestion_id, source_file, source_row, session_id, user_id, content_id, started_at, "
            "ended_at, watch_seconds, device")
    cmd = (f"\\copy bench_bronze ({cols}) from '{csv_path}' with (format csv, force_not_null "
           "(session_id, user_id, content_id, started_at, ended_at, watch_seconds, device))")
    return run_measured(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", cmd], env_for(database),
                        database)


def medallion_command() -> list[str]:
    """The `medallion` entry point of this tree (a worktree without its own .venv runs the
    current interpreter on its own code)."""
    script = ROOT / ".venv" / "bin" / "medallion"
    return [str(script)] if script.exists() else [sys.executable, "-m", "etl.cli"]


def medallion_ingest(raw_dir: Path) -> tuple:
    """run_measured's figures of `medallion ingest` into a fresh database, and the rows loaded."""
    database = fresh_database("bench_ingest")
    try:
        env = env_for(database)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        # CSV only: the benchmark needs no MongoDB collection
        subprocess.run([*medallion_command(), "init", "--no-mongo"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        result = run_measured([*medallion_command(), "ingest", "--raw-dir",
                               str(raw_dir), "--no-progress", "--strict"], env, database)
        with psycopg.connect(**get_settings().libpq_kwargs(database)) as conn:
            loaded = conn.execute("select count(*) from bronze.viewing_sessions").fetchone()[0]
        return result + (loaded,)  # type: ignore[return-value]
    finally:
        drop_database(database)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--rss-rows", type=int, default=5_000_000, help="0 to skip the RSS run")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    reset_settings()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_ingest_"))
    raw = work / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    csv_path = raw / "viewing_sessions.csv"
    size = write_csv(csv_path, args.rows)
    print(f"file: {args.rows:,} rows, {size / 1e6:.1f} MB")
    numbered_path = work / "numbered.csv"
    write_csv(numbered_path, args.rows, metadata=True)
    copy_db = fresh_database("bench_copy")
    ratios, copy_times, ingest_times, rss, floor_times, cpu_ratios = [], [], [], [], [], []
    try:
        for trial in range(args.trials):
            order = ("copy", "bronze", "ingest") if trial % 2 == 0 else ("ingest", "bronze", "copy")
            timings = {}
            for what in order:
                if what == "copy":
                    timings["copy"] = psql_copy(csv_path, copy_db)
                elif what == "bronze":
                    timings["bronze"] = psql_copy_bronze(numbered_path, copy_db)
                else:
                    *figures, loaded = medallion_ingest(raw)
                    if loaded != args.rows:
                        raise SystemExit(f"ingest loaded {loaded} rows, expected {args.rows}")
                    timings["ingest"] = tuple(figures)
            c, i = timings["copy"][0], timings["ingest"][0]
            copy_times.append(c)
            ingest_times.append(i)
            rss.append(timings["ingest"][1])
            ratios.append(c / i)
            floor_times.append(timings["bronze"][0])
            print(f"trial {trial + 1}: \\copy {c:.2f}s ({args.rows / c:,.0f} rows/s), "
                  f"\\copy into the bronze shape {timings['bronze'][0]:.2f}s, "
                  f"ingest {i:.2f}s ({args.rows / i:,.0f} rows/s), ratio {c / i:.2f}, "
                  f"ingest peak RSS {timings['ingest'][1]} MB; load average {load_average()}")
            cpu = {what: (t[2], t[3]) for what, t in timings.items()}
            if all(server is not None for _, server in cpu.values()):
                total = {what: client + server for what, (client, server) in cpu.items()}
                cpu_ratios.append(total["copy"] / total["ingest"])
                print("  CPU seconds (client + server): " + ", ".join(
                    f"{what} {client:.2f} + {server:.2f}" for what, (client, server) in cpu.items())
                    + f"; ratio \\copy / ingest {cpu_ratios[-1]:.2f}")
    finally:
        drop_database(copy_db)
    print(f"median: \\copy {statistics.median(copy_times):.2f}s, ingest {statistics.median(ingest_times):.2f}s, "
          f"throughput ratio ingest/\\copy {statistics.median(ratios):.2f} (goal >= 0.8); "
          f"peak RSS {max(rss)} MB")
    if cpu_ratios:
        print(f"median CPU ratio \\copy / ingest (client + server CPU seconds) {statistics.median(cpu_ratios):.2f}")
    print(f"reference: \\copy of pre-numbered rows into a table shaped like bronze.viewing_sessions "
          f"(13 columns, BRIN on ingestion_id, as sql/schema/bronze.sql) takes {statistics.median(floor_times):.2f}s: "
          f"ratio \\copy-into-bronze-shape / \\copy {statistics.median(copy_times) / statistics.median(floor_times):.2f}, "
          f"ingest / that {statistics.median(floor_times) / statistics.median(ingest_times):.2f}")
    if args.rss_rows:
        big = work / "raw_big"
        big.mkdir(exist_ok=True)
        big_size = write_csv(big / "viewing_sessions.csv", args.rss_rows, seed=8)
        seconds, peak, _client, _server, loaded = medallion_ingest(big)
        if loaded != args.rss_rows:
            raise SystemExit(f"ingest loaded {loaded} rows, expected {args.rss_rows}")
        print(f"{args.rss_rows:,} rows ({big_size / 1e6:.1f} MB): ingest {seconds:.2f}s, "
              f"peak RSS {peak} MB (vs {max(rss)} MB at {args.rows:,} rows); load average {load_average()}")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
