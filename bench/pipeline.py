"""Benchmark: the silver + gold transform on PostgreSQL against DuckDB (run on demand).

For each size: generate raw files (etl.synth), ingest them into a fresh database
(etl.ingest), run the whole transform (full refresh) and report the time per model; then
drop 1% new sessions into bronze and time the default (incremental) run; then compute the
same silver and gold with DuckDB straight from the raw files, check that both engines agree
on the row counts and the KPIs, and print the ratios.

    .venv/bin/python bench/pipeline.py --sessions 1000000 --sessions 5000000

Goals (issue 4): PostgreSQL transform within 2x DuckDB; 5M within 5.5x of 1M; an
incremental run after 1% new sessions within 15% of a full run.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from psycopg import sql  # noqa: E402

from bench.databases import drop_database, generated_database  # noqa: E402
from etl import db, transform  # noqa: E402

log = logging.getLogger("bench.pipeline")


# ------------------------------------------------------------------ PostgreSQL side









def add_new_sessions(share: float) -> int:
    """Copy `share` of the sessions as new ones (new ids, one new file), like a daily drop."""
    with db.connect() as conn:
        n = conn.execute("select count(*) from bronze.viewing_sessions").fetchone()[0]
        k = int(n * share)
        ingestion_id = conn.execute(
            "insert into ops.ingestion_log (source_file, sha256, entity, status, rows_loaded, "
            "encoding, finished_at) values ('sessions/viewing_sessions_zz_new.csv', %s, "
            "'viewing_sessions', 'loaded', %s, 'utf-8', now()) returning ingestion_id",
            (uuid.uuid4().hex, k)).fetchone()[0]
        conn.execute(
            "insert into bronze.viewing_sessions (session_id, user_id, content_id, started_at, "
            "ended_at, watch_seconds, device, ingestion_id, source_file, source_row) "
            "select 'new_' || session_id, user_id, content_id, started_at, ended_at, "
            "watch_seconds, device, %s, 'sessions/viewing_sessions_zz_new.csv', "
            "row_number() over () from bronze.viewing_sessions limit %s", (ingestion_id, k))
        conn.commit()
    return k


def pg_kpis() -> dict:
    with db.connect() as conn:
        counts = {f"{layer}.{t}": conn.execute(sql.SQL("select count(*) from {}").format(
                      sql.Identifier(layer, t))).fetchone()[0]
                  for layer, tables in (("silver", transform.SILVER_TABLES),
                                        ("gold", transform.GOLD_TABLES)) for t in tables}
        kpi = conn.execute("select users, active_users_30d, sessions, total_watch_hours, "
                           "avg_session_minutes, avg_completion_pct, completion_rate_pct "
                           "from gold.kpi_summary").fetchone()
    return {"counts": counts, "kpi": list(kpi)}


# ------------------------------------------------------------------ DuckDB side

_DUCK_CSV_SELECT = """
    select coalesce(COLUMNS(lambda c: list_contains($columns, c)), ''),
           $source_file as source_file, $file_rank as file_rank,
           row_number() over () as source_row
    from read_csv($path, header = true, all_varchar = true, normalize_names = true,
                  null_padding = false, strict_mode = false, quote = '"', escape = '"')"""
# per bronze entity: create from the first file, insert by name from the others
DUCK_READ_CSV = {
    ("users", "create"): "create table b_users as " + _DUCK_CSV_SELECT,
    ("users", "insert"): "insert into b_users by name " + _DUCK_CSV_SELECT,
    ("viewing_sessions", "create"): "create table b_viewing_sessions as " + _DUCK_CSV_SELECT,
    ("viewing_sessions", "insert"): "insert into b_viewing_sessions by name " + _DUCK_CSV_SELECT,
}

DUCK_MACROS = r"""
create or replace macro trim_ascii(s) as trim(s, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13));
create or replace macro ascii_lower(s) as translate(s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');
create or replace macro ascii_upper(s) as translate(s, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ');
create or replace macro is_cal(y, m, d) as y >= 1 and m between 1 and 12 and d >= 1 and d <= case
    when m = 2 then case when (y % 4 = 0 and y % 100 <> 0) or y % 400 = 0 then 29 else 28 end
    when m in (4, 6, 9, 11) then 30 else 31 end;
create or replace macro parse_ts(s) as case
    when regexp_full_match(s, '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})?')
     and substr(s, 12, 2) <= '23' and substr(s, 15, 2) <= '59' and substr(s, 18, 2) <= '59'
     and is_cal(substr(s, 1, 4)::int, substr(s, 6, 2)::int, substr(s, 9, 2)::int)
     and (not regexp_full_match(s, '.*[+-][0-9]{2}:[0-9]{2}')
          or (substr(s, length(s) - 4, 2) <= '23' and right(s, 2) <= '59'))
    then make_timestamp(substr(s, 1, 4)::bigint, substr(s, 6, 2)::bigint, substr(s, 9, 2)::bigint,
                        substr(s, 12, 2)::bigint, substr(s, 15, 2)::bigint,
                        regexp_extract(s, '^.{17}([0-9]{2}(\.[0-9]+)?)', 1)::double)
         - case when regexp_full_match(s, '.*[+-][0-9]{2}:[0-9]{2}')
                then (case when substr(s, length(s) - 5, 1) = '-' then -1 else 1 end)
                     * (substr(s, length(s) - 4, 2)::int * 60 + right(s, 2)::int) * interval 1 minute
                else interval 0 minute end
end;
create or replace macro parse_bigint(s) as case when regexp_full_match(s, '[+-]?[0-9]+') then try_cast(s as bigint) end;
create or replace macro parse_date(s) as case
    when regexp_full_match(s, '[0-9]{4}(-[0-9]{2}-|/[0-9]{2}/)[0-9]{2}') then case
        when is_cal(substr(s, 1, 4)::int, substr(s, 6, 2)::int, substr(s, 9, 2)::int)
        then make_date(substr(s, 1, 4)::int, substr(s, 6, 2)::int, substr(s, 9, 2)::int) end
    else cast(parse_ts(s) as date) end;
create or replace macro parse_number(s) as case
    when regexp_full_match(s, '[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?') then try_cast(s as double) end;
create or replace macro json_text(v) as case when json_type(v) = 'VARCHAR' then nullif(trim_ascii(v ->> '$'), '') end;
create or replace macro json_scalar(v) as case when json_type(v) in ('VARCHAR', 'UBIGINT', 'BIGINT', 'DOUBLE') then trim_ascii(v ->> '$') end;
"""


def _csv_files(raw: Path, prefix: str) -> list[Path]:
    found = [p for p in raw.rglob("*") if p.is_file() and p.name.lower().startswith(prefix)
             and (p.name.lower().endswith(".csv") or p.name.lower().endswith(".csv.gz"))]
    return sorted(found, key=lambda p: p.relative_to(raw).as_posix().encode())


def _utf8_copy(path: Path, tmp: Path) -> Path:
    """DuckDB reads UTF-8; give it a UTF-8 copy of a cp1252 (or BOM) file, as ingestion would."""
    data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
        if not path.name.endswith(".gz") and not data.startswith(b"\xef\xbb\xbf"):
            return path
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    out = tmp / (uuid.uuid4().hex + ".csv")
    out.write_text(text, encoding="utf-8")
    return out


def duckdb_transform(raw: Path, columns: dict[str, tuple[str, ...]], threads: int) -> dict:
    """Silver and gold with DuckDB, straight from the raw files; returns times and results."""
    import duckdb

    tmp = Path(tempfile.mkdtemp(prefix="bench-duck-"))
    times: dict[str, float] = {}
    con = duckdb.connect()
    con.execute("set threads = ?", [threads])
    con.execute("set TimeZone = 'UTC'")
    con.execute(DUCK_MACROS)
    started = time.perf_counter()

    @contextlib.contextmanager
    def timed(name):
        t0 = time.perf_counter()
        yield
        times[name] = times.get(name, 0.0) + time.perf_counter() - t0

    # bronze-equivalent relations from the files, with file order and row numbers; file
    # names, paths and columns travel as parameters (COLUMNS picks the entity's columns)
    for entity, prefix in (("users", "users"), ("viewing_sessions", "viewing_sessions")):
        copies = [(path, _utf8_copy(path, tmp)) for path in _csv_files(raw, prefix)]
        with timed("read"):
            for i, (path, src) in enumerate(copies):
                con.execute(DUCK_READ_CSV[entity, "insert" if i else "create"], {
                    "columns": list(columns[entity]), "path": str(src),
                    "source_file": path.relative_to(raw).as_posix(), "file_rank": i})
    docs = []
    json_files = sorted([p for p in raw.rglob("*") if p.is_file() and p.name.lower().startswith("content")],
                        key=lambda p: p.relative_to(raw).as_posix().encode())
    t0 = time.perf_counter()
    for i, path in enumerate(json_files):
        data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
        text = data.decode("utf-8-sig")
        rows = json.loads(text) if ".json" in path.name and ".jsonl" not in path.name else \
            [json.loads(line) for line in text.splitlines() if line.strip()]
        rel = path.relative_to(raw).as_posix()
        docs += [(json.dumps(d), rel, i, n) for n, d in enumerate(rows, 1)]
    out = tmp / "content.csv"
    with out.open("w", encoding="utf-8") as fh:
        for d, rel, i, n in docs:
            fh.write(json.dumps([d, rel, i, n]) + "\n")
    con.execute("""create table b_content as select j->>0 as doc_text, (j->>0)::json as doc,
                    j->>1 as source_file, (j->>2)::int as file_rank, (j->>3)::bigint as source_row
                    from (select json(column0) as j from read_csv(?, header = false,
                          columns = {'column0': 'VARCHAR'}, delim = chr(1), quote = '', escape = ''))""",
                [str(out)])
    times["read"] += time.perf_counter() - t0

    with timed("silver.users"):
        con.execute("""
        create table s_users as
        with t as (
            select trim_ascii(user_id) as user_id, trim_ascii(email) as email,
                   trim_ascii(full_name) as full_name, trim_ascii(country) as country,
                   trim_ascii(signup_date) as signup_date, trim_ascii(subscription_tier) as tier,
                   trim_ascii(birth_year) as birth_year, parse_ts(trim_ascii(updated_at)) as updated_at,
                   file_rank, source_row from b_users),
        r as (select *, row_number() over (partition by user_id order by updated_at desc nulls last,
                     file_rank desc, source_row desc) as rn from t where user_id <> '')
        select user_id,
               case when regexp_full_match(ascii_lower(email), '[^@\\s]+@[^@\\s]+\\.[^@\\s]+') then ascii_lower(email) end as email,
               nullif(full_name, '') as full_name,
               case when regexp_full_match(ascii_upper(country), '[A-Z]{2}') then ascii_upper(country) end as country,
               parse_date(signup_date) as signup_date,
               case when ascii_lower(tier) in ('free', 'basic', 'standard', 'premium') then ascii_lower(tier) else 'unknown' end as subscription_tier,
               case when parse_bigint(birth_year) between 1900 and year(current_date) then parse_bigint(birth_year) end as birth_year,
               updated_at
        from r where rn = 1""")
    with timed("silver.content"):
        con.execute("""
        create table s_content_all as
        with k as (
            select case json_type(doc -> 'content_id')
                       when 'VARCHAR' then nullif(trim_ascii(doc ->> 'content_id'), '')
                       when 'UBIGINT' then doc ->> 'content_id' when 'BIGINT' then doc ->> 'content_id'
                   end as content_id,
                   doc, parse_ts(json_text(doc -> 'updated_at')) as updated_at, file_rank, source_row
            from b_content)
        select *, row_number() over (partition by content_id order by updated_at desc nulls last,
                  file_rank desc, source_row desc) as rn
        from k where content_id is not null;
        create table s_content as
        with p as (
            select content_id, json_text(doc -> 'title') as title,
                   ascii_lower(json_text(doc -> 'content_type')) as content_type,
                   parse_number(json_scalar(doc -> 'duration_min')) as duration_min,
                   parse_bigint(json_scalar(doc -> '$.release.year')) as release_year,
                   parse_number(json_scalar(doc -> '$.ratings.imdb')) as imdb_rating,
                   parse_bigint(json_scalar(doc -> '$.ratings.votes')) as votes,
                   json_text(doc -> 'maturity_rating') as maturity_rating, updated_at, doc
            from s_content_all where rn = 1)
        select content_id, title,
               case when content_type in ('movie', 'series', 'documentary', 'short') then content_type else 'unknown' end as content_type,
               case when duration_min > 0 then duration_min end as duration_min,
               case when release_year between 1870 and year(current_date) + 1 then release_year end as release_year,
               case when imdb_rating between 0 and 10 then imdb_rating end as imdb_rating,
               case when votes >= 0 then votes end as votes, maturity_rating, updated_at, doc
        from p;
        create table s_content_genres as
        with e as (
            select c.content_id, g.value as v, g.pos
            from s_content c,
                 lateral (select unnest(case json_type(c.doc -> 'genres')
                                 when 'ARRAY' then json_extract(c.doc, '$.genres[*]')
                                 when 'VARCHAR' then [c.doc -> 'genres'] else [] end) as value,
                                 generate_subscripts(case json_type(c.doc -> 'genres')
                                 when 'ARRAY' then json_extract(c.doc, '$.genres[*]')
                                 when 'VARCHAR' then [c.doc -> 'genres'] else [] end, 1) as pos) g),
        f as (select content_id, ascii_lower(json_text(v)) as genre, min(pos) as pos from e
              where json_text(v) is not null group by all)
        select content_id, genre, row_number() over (partition by content_id order by pos) as ordinal from f""")
    with timed("silver.viewing_sessions"):
        con.execute("""
        create table s_sessions as
        with t as (
            select trim_ascii(session_id) as session_id, trim_ascii(user_id) as user_id,
                   trim_ascii(content_id) as content_id, trim_ascii(started_at) as started_at,
                   trim_ascii(ended_at) as ended_at, trim_ascii(watch_seconds) as watch_seconds,
                   trim_ascii(device) as device, file_rank, source_row from b_viewing_sessions),
        r as (select *, row_number() over (partition by session_id order by file_rank desc, source_row desc) as rn
              from t where session_id <> ''),
        p as (select *, parse_ts(started_at) as s_ts, case when ended_at <> '' then parse_ts(ended_at) end as e_ts,
                     case when watch_seconds <> '' then parse_bigint(watch_seconds) end as ws
              from r where rn = 1),
        v as (
            select p.*, c.duration_min, case
                when s_ts is null or (ended_at <> '' and e_ts is null) then 'invalid_timestamp'
                when (watch_seconds <> '' and ws is null) or (watch_seconds = '' and ended_at = '') then 'invalid_measure'
                when ws < 0 or e_ts < s_ts then 'negative_duration'
                when u.user_id is null then 'orphan_user'
                when c.content_id is null then 'orphan_content' end as reason
            from p left join s_users u on u.user_id = p.user_id
                   left join s_content c on c.content_id = p.content_id)
        select session_id, user_id, content_id, s_ts as started_at, e_ts as ended_at,
               coalesce(ws, floor(epoch(e_ts) - epoch(s_ts))::bigint) as watch_seconds,
               case when ascii_lower(device) in ('mobile', 'tv', 'web', 'tablet') then ascii_lower(device) else 'other' end as device,
               case when duration_min is not null then least(100, coalesce(ws, floor(epoch(e_ts) - epoch(s_ts))::bigint) * 100.0 / (duration_min * 60)) end as completion_pct,
               reason
        from v""")
    with timed("gold"):
        con.execute("""
        create table g_fact as
        select s.session_id, s.user_id, s.content_id, s.started_at, cast(s.started_at as date) as session_date,
               s.device, s.watch_seconds, s.completion_pct, s.completion_pct >= 90 as is_completed,
               u.country, u.subscription_tier, c.title as content_title, c.content_type, g.genre as primary_genre
        from s_sessions s join s_users u using (user_id) join s_content c using (content_id)
        left join (select content_id, genre from s_content_genres where ordinal = 1) g using (content_id)
        where s.reason is null;
        create table g_content as
        select c.content_id, c.title, c.content_type, count(f.session_id) as views,
               count(distinct f.user_id) as unique_viewers, coalesce(sum(f.watch_seconds) / 3600.0, 0) as total_watch_hours,
               avg(f.completion_pct) as avg_completion_pct,
               100.0 * count(*) filter (where f.is_completed) / nullif(count(f.completion_pct), 0) as completion_rate_pct
        from s_content c left join g_fact f using (content_id) group by all;
        create table g_users as
        select u.user_id, u.country, u.subscription_tier, count(f.session_id) as sessions,
               coalesce(sum(f.watch_seconds) / 3600.0, 0) as total_watch_hours,
               count(distinct f.session_date) as active_days, min(f.started_at) as first_session_at,
               max(f.started_at) as last_session_at, avg(f.watch_seconds) / 60.0 as avg_session_minutes
        from s_users u left join g_fact f using (user_id) group by all;
        create table g_genre as
        select g.genre, count(distinct g.content_id) as titles, count(f.session_id) as views,
               count(distinct f.user_id) as unique_viewers, coalesce(sum(f.watch_seconds) / 3600.0, 0) as total_watch_hours,
               avg(f.completion_pct) as avg_completion_pct
        from s_content_genres g left join g_fact f using (content_id) group by all;
        create table g_country as
        select coalesce(u.country, 'unknown') as country, count(distinct u.user_id) as users,
               count(distinct f.user_id) as active_users, count(f.session_id) as sessions,
               coalesce(sum(f.watch_seconds) / 3600.0, 0) as total_watch_hours,
               avg(f.watch_seconds) / 60.0 as avg_session_minutes
        from s_users u left join g_fact f using (user_id) group by all;
        create table g_daily as
        select session_date, device, count(*) as sessions, count(distinct user_id) as unique_users,
               sum(watch_seconds) / 3600.0 as total_watch_hours, avg(completion_pct) as avg_completion_pct
        from g_fact group by all;
        create table g_kpi as
        with t as (select max(started_at) as as_of from g_fact)
        select (select count(*) from s_users) as users,
               (select count(distinct user_id) from g_fact, t where started_at > t.as_of - interval 720 hour) as active_users_30d,
               count(*) as sessions, coalesce(sum(watch_seconds), 0) / 3600.0 as total_watch_hours,
               avg(watch_seconds) / 60.0 as avg_session_minutes, avg(completion_pct) as avg_completion_pct,
               100.0 * count(*) filter (where is_completed) / nullif(count(completion_pct), 0) as completion_rate_pct
        from g_fact""")
    total = time.perf_counter() - started
    counts = {
        "silver.users": con.execute("select count(*) from s_users").fetchone()[0],
        "silver.content": con.execute("select count(*) from s_content").fetchone()[0],
        "silver.content_genres": con.execute("select count(*) from s_content_genres").fetchone()[0],
        "silver.viewing_sessions": con.execute(
            "select count(*) from s_sessions where reason is null").fetchone()[0],
        "gold.fact_viewing": con.execute("select count(*) from g_fact").fetchone()[0],
        "gold.daily_viewing": con.execute("select count(*) from g_daily").fetchone()[0],
        "gold.genre_performance": con.execute("select count(*) from g_genre").fetchone()[0],
        "gold.country_insights": con.execute("select count(*) from g_country").fetchone()[0],
    }
    kpi = list(con.execute("select users, active_users_30d, sessions, total_watch_hours, "
                           "avg_session_minutes, avg_completion_pct, completion_rate_pct "
                           "from g_kpi").fetchone())
    con.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return {"seconds": total, "times": times, "counts": counts, "kpi": kpi}


# ------------------------------------------------------------------ the run

def bench_size(sessions: int, users: int, contents: int, threads: int, keep: bool,
               prefix: str = "medallion_bench") -> dict:
    raw = Path(tempfile.mkdtemp(prefix=f"bench-raw-{sessions}-"))
    name = f"{prefix}_{sessions}"
    result: dict = {"sessions": sessions}
    try:
        result.update(generated_database(name, raw, sessions=sessions, users=users,
                                         contents=contents))
        result["load_before"] = os.getloadavg()
        report = transform.transform(full_refresh=True)
        result["load_after"] = os.getloadavg()
        result["pg_full_s"] = report.seconds
        result["pg_models"] = {m.name: m.seconds for m in report.models}
        result["pg"] = pg_kpis()
        result["duck"] = duckdb_transform(raw, {"users": synth.USERS_COLUMNS,
                                                "viewing_sessions": synth.SESSIONS_COLUMNS},
                                          threads)
        result["new_sessions"] = add_new_sessions(0.01)
        report = transform.transform()
        result["pg_incremental_s"] = report.seconds
    finally:
        if not keep:
            drop_database(name)
        shutil.rmtree(raw, ignore_errors=True)
    return result


def _print(result: dict) -> None:
    pg, duck = result["pg_full_s"], result["duck"]["seconds"]
    print(f"\n== {result['sessions']:,} sessions: generate {result['generate_s']:.1f} s, "
          f"ingest {result['ingest_s']:.1f} s")
    print(f"PostgreSQL transform (full refresh): {pg:.1f} s (load average before "
          f"{'/'.join(f'{x:.2f}' for x in result['load_before'])}, after "
          f"{'/'.join(f'{x:.2f}' for x in result['load_after'])})")
    for model, seconds in result["pg_models"].items():
        print(f"  {model:<28} {seconds:8.2f} s")
    print(f"DuckDB (read raw files + silver + gold): {duck:.1f} s")
    for step, seconds in result["duck"]["times"].items():
        print(f"  {step:<28} {seconds:8.2f} s")
    print(f"ratio PostgreSQL / DuckDB: {pg / duck:.2f} (goal <= 2)")
    print(f"incremental after {result['new_sessions']:,} new sessions: "
          f"{result['pg_incremental_s']:.1f} s = {result['pg_incremental_s'] / pg:.2f} of a full run "
          "(goal <= 0.15; the incremental run is a full rebuild today)")
    print("agreement (PostgreSQL vs DuckDB):")
    for table, n in result["duck"]["counts"].items():
        mark = "ok" if result["pg"]["counts"][table] == n else "DIFFERS"
        print(f"  {table:<28} pg {result['pg']['counts'][table]:>10,}  duckdb {n:>10,}  {mark}")
    names = ["users", "active_users_30d", "sessions", "total_watch_hours", "avg_session_minutes",
             "avg_completion_pct", "completion_rate_pct"]
    for key, a, b in zip(names, result["pg"]["kpi"], result["duck"]["kpi"]):
        same = (a is None and b is None) or (a is not None and b is not None
                                             and abs(float(a) - float(b)) <= 1e-6 * max(1, abs(float(a))))
        print(f"  kpi {key:<24} pg {a}  duckdb {b}  {'ok' if same else 'DIFFERS'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, action="append",
                        help="sessions per run (repeat for several sizes; default 1,000,000)")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--contents", type=int, default=50_000)
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (2 cores here)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument("--database-prefix", default="medallion_bench",
                        help="name of the throwaway databases (a suffix _<sessions> is added); "
                             "give each concurrent run its own, as a run drops its database first")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sizes = args.sessions or [1_000_000]
    results = []
    for n in sizes:
        result = bench_size(n, args.users, args.contents, args.threads, args.keep,
                            args.database_prefix)
        _print(result)
        results.append(result)
    if len(results) > 1:
        a, b = results[0], results[-1]
        print(f"\nscaling {a['sessions']:,} -> {b['sessions']:,} sessions: PostgreSQL "
              f"{b['pg_full_s'] / a['pg_full_s']:.2f}x, DuckDB "
              f"{b['duck']['seconds'] / a['duck']['seconds']:.2f}x "
              f"(rows {b['sessions'] / a['sessions']:.1f}x; goal <= 5.5x for 5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
