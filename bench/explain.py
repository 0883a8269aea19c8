"""Profile a model's full refresh, statement by statement (run on demand, against a database
that holds bronze and the silver/gold tables the model reads, e.g. one kept by
`bench/pipeline.py --keep`).

Each statement runs as the runner runs it (same session settings, indexes detached first
and rebuilt after), under `EXPLAIN (ANALYZE, BUFFERS, WAL)` where PostgreSQL can explain it
(select, insert, delete, create table as), plainly otherwise; the whole transaction is
rolled back at the end, so the database is left as it was.

    POSTGRES_DB=fr_before_1000000 .venv/bin/python bench/explain.py silver.viewing_sessions
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg.sql  # noqa: E402

from etl import db, sql_runner  # noqa: E402

def _backend_cpu(pid: int) -> float | None:
    """CPU seconds the server process has used (when it runs on this machine), which a
    loaded machine does not inflate as it does wall time; parallel workers not included."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_EXPLAINABLE = re.compile(r"^\s*(select|insert|delete|update|with|create\s+(temporary\s+)?table\s+\w+"
                          r"(\s+on\s+commit\s+drop)?\s+as)\b", re.IGNORECASE)


def profile(name: str, mode: str = "full", plans: bool = True,
            settings: list[str] = ()) -> list[tuple[float, str]]:
    models = {m.name: m for m in sql_runner.discover()}
    if name not in models:
        raise SystemExit(f"unknown model {name!r}: choose from {', '.join(sorted(models))}")
    model = models[name]
    timings = []
    with db.connect() as conn:
        sql_runner.configure_session(conn, "explain", mode)
        for setting in settings:
            key, _, value = setting.partition("=")
            conn.execute("select set_config(%s, %s, true)", (key.strip(), value.strip()))
        pid = conn.execute("select pg_backend_pid()").fetchone()[0]
        rebuild = sql_runner._detach_indexes(conn, model) if mode == "full" else []
        statements = model.statements_for(mode) + rebuild
        for statement in statements:
            summary = sql_runner._summary(statement)
            code = sql_runner._strip_comments(statement)
            t0, cpu0 = time.perf_counter(), _backend_cpu(pid)
            if _EXPLAINABLE.match(code):
                plan = conn.execute(psycopg.sql.SQL("explain (analyze, buffers, wal) ")
                                    + psycopg.sql.SQL(statement)).fetchall()
                text = "\n".join(row[0] for row in plan)
            else:
                conn.execute(statement)
                text = ""
            seconds, cpu1 = time.perf_counter() - t0, _backend_cpu(pid)
            cpu = "" if cpu0 is None or cpu1 is None else f" (cpu {cpu1 - cpu0:.2f} s)"
            timings.append((seconds, summary + cpu))
            print(f"\n=== {seconds:7.2f} s{cpu}  {summary}")
            if plans and text:
                print(text)
        conn.rollback()
    print(f"\n--- {name} ({mode}): {sum(s for s, _ in timings):.2f} s; slowest statements:")
    for seconds, summary in sorted(timings, reverse=True)[:8]:
        print(f"  {seconds:7.2f} s  {summary}")
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="e.g. silver.viewing_sessions")
    parser.add_argument("--mode", choices=sql_runner.MODES, default="full")
    parser.add_argument("--no-plans", action="store_true", help="timings only")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the transaction, after the runner's (to try one)")
    args = parser.parse_args(argv)
    for name in args.models:
        profile(name, args.mode, not args.no_plans, args.set)
    return 0


if __name__ == "__main__":
    sys.exit(main())
