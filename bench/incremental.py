"""Benchmark: incremental transform against a full refresh (issue 13; run on demand).

For each size: generate raw files (etl.synth), ingest them into a fresh database, run a
full refresh; then land an increment of about 1% of the sessions (new sessions a day
later, re-sent sessions in a file sorting after the originals and in one sorting before,
1% of the users with a newer country and tier, 1% of the contents with a newer duration,
genres and title) and run the default (incremental) transform; then run it again with
nothing new. Finally a full refresh of the same bronze in a clone of the database must
give the same tables (row checksums, table by table). Then a second increment of 1%
sessions without user or content updates, for comparison. Prints the ratios.

    PYTHONPATH=. .venv/bin/python bench/incremental.py --sessions 1000000 --sessions 5000000

Goals (issue 13): the increment at most 15% of a full refresh; nothing new at most 5%;
the result equal to the full refresh.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from psycopg import sql  # noqa: E402

from bench.databases import admin_connection, drop_database, generated_database, use_database  # noqa: E402
from etl import db, transform  # noqa: E402
from etl.settings import reset_settings  # noqa: E402

log = logging.getLogger("bench.incremental")

TABLES = ([f"silver.{t}" for t in transform.SILVER_TABLES]
          + [f"gold.{t}" for t in transform.GOLD_TABLES]
          + ["gold.genre_viewers", "gold.user_engagement_totals",
             "gold.content_performance_totals", "gold.daily_viewing_totals"])


def _ingestion(conn, entity: str, source_file: str) -> int:
    return conn.execute(
        "insert into ops.ingestion_log (source_file, sha256, entity, status, rows_loaded, "
        "encoding, finished_at) values (%s, %s, %s, 'loaded', 0, 'utf-8', now()) "
        "returning ingestion_id", (source_file, uuid.uuid4().hex, entity)).fetchone()[0]


def land_increment(share: float, updates: bool = True, tag: str = "") -> dict[str, int]:
    """Write an increment straight into bronze (as loaded files), like a daily drop: new
    sessions, re-sent sessions (after and before the originals), and with `updates`, user
    and content updates."""
    counts = {}
    with db.connect() as conn:
        n = conn.execute("select count(*) from bronze.viewing_sessions").fetchone()[0]
        parts = [(f"sessions/viewing_sessions_zz_new{tag}.csv", int(n * share * 0.7),
                  f"new{tag}_", "1 day"),
                 (f"sessions/viewing_sessions_zz_resent{tag}.csv", int(n * share * 0.2),
                  "", "0 days"),
                 (f"0_backfill/viewing_sessions_old{tag}.csv", int(n * share * 0.1),
                  "", "0 days")]
        for source_file, k, prefix, shift in parts:
            iid = _ingestion(conn, "viewing_sessions", source_file)
            # every 97th row of bronze, so the re-sent ones are spread over the whole history
            conn.execute("""
                insert into bronze.viewing_sessions (session_id, user_id, content_id, started_at,
                    ended_at, watch_seconds, device, ingestion_id, source_file, source_row)
                select %s || session_id, user_id, content_id,
                       coalesce(to_char(silver.parse_timestamp(silver.trim_ascii(started_at))
                                        + %s::interval, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                started_at),
                       '', (length(session_id) * 37 %% 5000)::text, device, %s, %s,
                       row_number() over ()
                from (select * from bronze.viewing_sessions
                      where ingestion_id < %s and source_row %% 97 = %s limit %s) as b""",
                         (prefix, shift, iid, source_file, iid, len(source_file) % 97, k))
            counts[source_file] = k
        if not updates:
            conn.commit()
            return counts
        users = conn.execute("select count(*) from silver.users").fetchone()[0]
        iid = _ingestion(conn, "users", "users_zz_updates.csv")
        cur = conn.execute("""
            insert into bronze.users (user_id, email, full_name, country, signup_date,
                subscription_tier, birth_year, updated_at, ingestion_id, source_file, source_row)
            select user_id, coalesce(email, ''), coalesce(full_name, ''),
                   case when country = 'US' then 'CA' else 'US' end, '', 'premium', '',
                   '2030-01-01T00:00:00Z', %s, 'users_zz_updates.csv', row_number() over ()
            from silver.users where abs(hashtext(user_id)) %% 100 = 7 limit %s""",
                           (iid, max(1, users // 100)))
        counts["users_zz_updates.csv"] = cur.rowcount
        contents = conn.execute("select count(*) from silver.content").fetchone()[0]
        iid = _ingestion(conn, "content", "content_zz_updates.jsonl")
        cur = conn.execute("""
            insert into bronze.content (doc, ingestion_id, source_file, source_row)
            select jsonb_build_object('content_id', content_id, 'title', 'Updated ' || content_id,
                                      'content_type', 'series', 'genres', jsonb_build_array('Drama', 'Zeta'),
                                      'duration_min', coalesce(duration_min, 60) * 2,
                                      'updated_at', '2030-01-01T00:00:00Z'),
                   %s, 'content_zz_updates.jsonl', row_number() over ()
            from silver.content where abs(hashtext(content_id)) %% 100 = 3 limit %s""",
                           (iid, max(1, contents // 100)))
        counts["content_zz_updates.jsonl"] = cur.rowcount
        conn.commit()
    return counts


def checksums() -> dict[str, str]:
    with db.connect() as conn:
        return {t: conn.execute(sql.SQL(
            "select md5(coalesce(string_agg(md5(t::text), '' order by md5(t::text)), '')) "
            "from {} as t").format(sql.Identifier(*t.split(".", 1)))).fetchone()[0]
            for t in TABLES}


def timed_transform(full_refresh: bool) -> transform.TransformReport:
    report = transform.transform(full_refresh=full_refresh)
    log.info("%s", report.format())
    return report


def bench_size(sessions: int, users: int, contents: int, keep: bool,
               prefix: str = "medallion_bench_inc") -> dict:
    raw = Path(tempfile.mkdtemp(prefix=f"bench-inc-raw-{sessions}-"))
    name = f"{prefix}_{sessions}"
    clone = f"{name}_full"
    result: dict = {"sessions": sessions}
    try:
        result.update(generated_database(name, raw, sessions=sessions, users=users,
                                         contents=contents))
        result["full"] = timed_transform(full_refresh=True)
        result["increment"] = land_increment(0.01)
        result["incremental"] = timed_transform(full_refresh=False)
        result["nothing_new"] = timed_transform(full_refresh=False)
        result["sessions_increment"] = land_increment(0.01, updates=False, tag="2")
        result["sessions_only"] = timed_transform(full_refresh=False)
        incremental = checksums()
        with admin_connection() as conn:
            conn.execute(sql.SQL("create database {} template {}").format(
                sql.Identifier(clone), sql.Identifier(name)))
        use_database(clone)
        result["full_after"] = timed_transform(full_refresh=True)
        full = checksums()
        result["differing"] = [t for t in TABLES if incremental[t] != full[t]]
    finally:
        drop_database(clone, mongo=False)
        use_database(name)
        if not keep:
            drop_database(name)
        shutil.rmtree(raw, ignore_errors=True)
    return result


def _models(report: transform.TransformReport) -> None:
    for m in report.models:
        read = "-" if m.rows_read is None else f"{m.rows_read:,}"
        counts = f"{read:>10} read {m.rows_changed or 0:>10,} changed"
        print(f"    {m.name:<28} {m.mode or '':<12} {m.seconds:8.2f} s  {counts}")


def _print(result: dict) -> None:
    full = result["full"].seconds
    full_after = result["full_after"].seconds
    inc = result["incremental"].seconds
    nothing = result["nothing_new"].seconds
    print(f"\n== {result['sessions']:,} sessions: generate {result['generate_s']:.1f} s, "
          f"ingest {result['ingest_s']:.1f} s")
    print(f"full refresh: {full:.1f} s")
    _models(result["full"])
    print("increment: " + ", ".join(f"{f} {k:,}" for f, k in result["increment"].items()))
    print(f"incremental run: {inc:.2f} s")
    _models(result["incremental"])
    print(f"nothing new: {nothing:.2f} s")
    _models(result["nothing_new"])
    sessions_only = result["sessions_only"].seconds
    print("second increment, sessions only: "
          + ", ".join(f"{f} {k:,}" for f, k in result["sessions_increment"].items()))
    print(f"incremental run: {sessions_only:.2f} s")
    _models(result["sessions_only"])
    print(f"full refresh of the same bronze (clone): {full_after:.1f} s")
    print(f"ratio increment / full refresh: {inc / full:.3f} (goal <= 0.15)")
    print(f"ratio nothing new / full refresh: {nothing / full:.3f} (goal <= 0.05)")
    print(f"ratio sessions-only increment / full refresh: {sessions_only / full:.3f}")
    same = not result["differing"]
    print(f"incremental equals full refresh: {'yes' if same else 'NO: ' + ', '.join(result['differing'])}")


def private_mongo(folder: Path) -> Path:
    """Ingestion writes content to MongoDB too: start a private SecantusDB server for the
    benchmark (as the tests do) unless MONGO_URI is set; returns its pid file."""
    from stack.services import free_port, start_secantus

    pid_file = folder / "secantusd.pid"
    os.environ["MONGO_URI"] = start_secantus(free_port(), folder / "data", folder / "secantusd.log",
                                             pid_file)
    reset_settings()
    return pid_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, action="append",
                        help="sessions to generate (repeatable; default 1,000,000)")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--contents", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    # Benchmarks of several worktrees on one server must not drop each other's databases.
    parser.add_argument("--database-prefix", default="medallion_bench_inc",
                        help="name of the benchmark databases, before _<sessions>")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    ok = True
    mongo_dir = Path(tempfile.mkdtemp(prefix="bench-inc-mongo-"))
    pid_file = None if os.environ.get("MONGO_URI") else private_mongo(mongo_dir)
    try:
        for n in args.sessions or [1_000_000]:
            result = bench_size(n, args.users, args.contents, args.keep, args.database_prefix)
            _print(result)
            ok = ok and not result["differing"]
    finally:
        if pid_file is not None:
            from stack.services import stop_pid

            stop_pid(pid_file)
        shutil.rmtree(mongo_dir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
