"""A small, realistic console dataset written straight into the gold and ops tables.

Gold is derived from a hand-made gold.fact_viewing with the contract's formulas,
so the KPI tables agree with each other; ops holds three pipeline runs (two
successful, the latest failed), quality results with a failing critical check,
model runs, accounting and an ingestion log with every status.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import psycopg

from tests.support.dq_dataset import aggregate_statements

BASE = datetime(2026, 11, 1, tzinfo=timezone.utc)
DEVICES = ["tv", "mobile", "web"]
USERS = [  # user_id, country, tier
    ("u1", "US", "premium"), ("u2", "US", "basic"), ("u3", "DE", "standard"),
    ("u4", "DE", "free"), ("u5", "BR", "premium"), ("u6", None, "unknown"), ("u7", "FR", "free"),
]
CONTENT = [  # content_id, title, type, duration_min, primary genre, genres
    ("c1", "The Long Night", "movie", 120.0, "drama", ["drama", "thriller"]),
    ("c2", "Ocean Worlds", "documentary", 50.0, "nature", ["nature"]),
    ("c3", "Code Breakers", "series", 45.0, "thriller", ["thriller", "drama"]),
    ("c4", "Tiny Tales", "short", 10.0, "comedy", ["comedy"]),
]


def fact_rows(sessions: int = 60, days: int = 12) -> list[tuple]:
    """`sessions` sessions over `days` days; u7 never watches (inactive)."""
    rows = []
    for i in range(sessions):
        user_id, country, tier = USERS[i % 6]
        content_id, title, ctype, duration, genre, _ = CONTENT[(0, 0, 1, 0, 2, 1, 3)[i % 7]]
        started = BASE + timedelta(days=i % days, hours=i % 7, minutes=i % 60)
        watch = 600 + (i * 397) % 6000
        pct = min(100.0, watch * 100 / (duration * 60))
        device = DEVICES[(i // days + i // 5) % 3]
        rows.append((f"s{i:03d}", user_id, content_id, started, started.date(), device,
                     watch, pct, pct >= 90, country, tier, title, ctype, genre))
    return rows


# Shared with bench/console.py, which derives the same tables from its large fact table.
DAILY_VIEWING_SQL = """insert into gold.daily_viewing
       select session_date, device, count(*), count(distinct user_id),
              sum(watch_seconds) / 3600.0, avg(completion_pct)
       from gold.fact_viewing group by session_date, device"""
KPI_SUMMARY_SQL = """insert into gold.kpi_summary
       select (select count(*) from gold.user_engagement),
              count(distinct user_id) filter (where started_at > (select max(started_at)
                  from gold.fact_viewing) - interval '720 hours'),
              count(*), sum(watch_seconds) / 3600.0, avg(watch_seconds) / 60.0,
              avg(completion_pct),
              100.0 * count(*) filter (where is_completed) / nullif(count(completion_pct), 0),
              max(started_at)
       from gold.fact_viewing"""
COUNTRY_INSIGHTS_SQL = """insert into gold.country_insights
       select coalesce(u.country, 'unknown'), count(*), count(*) filter (where u.sessions > 0),
              sum(u.sessions), sum(u.total_watch_hours), avg(u.avg_session_minutes)
       from gold.user_engagement u group by coalesce(u.country, 'unknown')"""
GOLD_SQL = [
    DAILY_VIEWING_SQL,
    """insert into gold.content_performance
       select c.content_id, c.title, c.content_type, count(f.session_id),
              count(distinct f.user_id), coalesce(sum(f.watch_seconds), 0) / 3600.0,
              avg(f.completion_pct),
              100.0 * count(*) filter (where f.is_completed) / nullif(count(f.completion_pct), 0)
       from (values ('c1', 'The Long Night', 'movie'), ('c2', 'Ocean Worlds', 'documentary'),
                    ('c3', 'Code Breakers', 'series'), ('c4', 'Tiny Tales', 'short'),
                    ('c5', 'Unwatched', 'movie')) c(content_id, title, content_type)
       left join gold.fact_viewing f using (content_id)
       group by c.content_id, c.title, c.content_type""",
    KPI_SUMMARY_SQL,
    COUNTRY_INSIGHTS_SQL,
]


def derive_summaries(conn: psycopg.Connection) -> None:
    """gold.daily_viewing, gold.country_insights and gold.kpi_summary from gold.fact_viewing
    and gold.user_engagement (bench/console.py, on its large fact table)."""
    for statement in (DAILY_VIEWING_SQL, COUNTRY_INSIGHTS_SQL, KPI_SUMMARY_SQL):
        conn.execute(statement)


def load(conn: psycopg.Connection, sessions: int = 60, days: int = 12) -> None:
    """Fill gold and ops with the dataset (one transaction)."""
    with conn.cursor() as cur:
        cur.executemany(
            "insert into gold.fact_viewing values (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            fact_rows(sessions, days))
        for user_id, country, tier in USERS:
            cur.execute("""
                insert into gold.user_engagement
                select %(u)s, %(c)s, %(t)s, count(*), coalesce(sum(watch_seconds), 0) / 3600.0,
                       count(distinct session_date), min(started_at), max(started_at),
                       avg(watch_seconds) / 60.0,
                       case when count(*) = 0 then 'inactive'
                            when sum(watch_seconds) < 3600 then 'light'
                            when sum(watch_seconds) < 36000 then 'regular' else 'heavy' end
                from gold.fact_viewing where user_id = %(u)s""", {"u": user_id, "c": country, "t": tier})
        for content_id, _, _, _, _, genres in CONTENT:
            for genre in genres:
                cur.execute("""
                    insert into gold.genre_performance
                    select %(g)s, 1, count(*), count(distinct user_id),
                           coalesce(sum(watch_seconds), 0) / 3600.0, avg(completion_pct)
                    from gold.fact_viewing where content_id = %(c)s
                    on conflict (genre) do update set
                        titles = gold.genre_performance.titles + 1,
                        views = gold.genre_performance.views + excluded.views,
                        unique_viewers = greatest(gold.genre_performance.unique_viewers,
                                                  excluded.unique_viewers),
                        total_watch_hours = gold.genre_performance.total_watch_hours
                                            + excluded.total_watch_hours""",
                            {"g": genre, "c": content_id})
        for statement in GOLD_SQL:
            cur.execute(statement)
        for statement in aggregate_statements():
            cur.execute(statement)
        load_ops(cur)


def load_ops(cur) -> None:
    """The ops rows: three pipeline runs with model runs, checks, scores, files, accounting."""
    t0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=3)
    runs = [  # run_id, dag_id, status, start offset (h), duration, rows, scores, latency, error
        ("run-1", "dag_4_data_transformer_silver", "success", 0, 95.0, (70, 64, 60), (100, 96, 100), 400.0, None),
        ("run-2", "dag_4_data_transformer_silver", "success", 24, 88.0, (75, 66, 60), (100, 92, 100), 380.0, None),
        ("run-3", "dag_4_data_transformer_silver", "failed", 48, 40.0, (80, 70, None), (100, 90, None), None,
         "critical check failed: silver.viewing_sessions session_id is unique"),
    ]
    for run_id, dag_id, status, hours, duration, rows, scores, latency, error in runs:
        started = t0 + timedelta(hours=hours)
        cur.execute("""
            insert into ops.pipeline_runs (run_id, trigger, dag_id, dag_run_id, status, started_at,
                finished_at, duration_seconds, tasks_succeeded, tasks_failed, rows_bronze,
                rows_silver, rows_gold, dq_score_bronze, dq_score_silver, dq_score_gold,
                earliest_file_modified_at, gold_built_at, latency_seconds, error)
            values (%s, 'airflow', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (run_id, dag_id, f"manual__{run_id}", status, started,
             started + timedelta(seconds=duration), duration, 6 if status == "success" else 4,
             0 if status == "success" else 1, *rows, *scores,
             started - timedelta(seconds=300), None if latency is None else started + timedelta(seconds=latency - 300),
             latency, error))
        for i, (model, layer, secs) in enumerate([("silver.users", "silver", 3.5),
                                                  ("silver.content", "silver", 2.0),
                                                  ("silver.viewing_sessions", "silver", 9.0),
                                                  ("gold.fact_viewing", "gold", 6.0),
                                                  ("gold.kpi_summary", "gold", 0.5)]):
            failed = status == "failed" and layer == "gold"
            m_start = started + timedelta(seconds=10 * i)
            cur.execute("""
                insert into ops.model_runs (run_id, model, layer, started_at, finished_at,
                    duration_seconds, rows, status, error, mode, rows_read, rows_changed)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (run_id, model, layer, m_start, m_start + timedelta(seconds=secs), secs,
                 None if failed else 20 + 10 * i + hours, "skipped" if failed else "success", None,
                 "full" if run_id == "run-1" else "incremental", 7 * (i + 1), 3 * i))
        cur.execute("""
            insert into ops.ingestion_log (source_file, sha256, entity, status, rows_loaded,
                encoding, error, started_at, finished_at, file_format, run_id)
            values (%s, %s, 'viewing_sessions', 'loaded', 60, 'utf-8', null, %s, %s, 'csv', %s)""",
            (f"sessions/viewing_sessions_{run_id}.csv", f"sha-{run_id}", started - timedelta(seconds=30),
             started - timedelta(seconds=20), run_id))
        for layer, score in zip(("bronze", "silver", "gold"), scores):
            if score is None:
                continue
            cur.execute("""
                insert into ops.dq_scores (run_id, layer, score, measured_at, checks_total,
                    checks_pass, checks_warn, checks_fail, critical_failures)
                values (%s, %s, %s, %s, 10, %s, 0, %s, %s)""",
                (run_id, layer, score, started + timedelta(seconds=60), int(score // 10),
                 10 - int(score // 10), 1 if score < 91 else 0))
        checks = [("bronze", "bronze.users", "user_id is present", "completeness", True, "pass", 0.0),
                  ("silver", "silver.users", "email is valid", "validity", False,
                   "warn" if status == "failed" else "pass", 3.0),
                  ("silver", "silver.viewing_sessions", "session_id is unique", "uniqueness", True,
                   "fail" if status == "failed" else "pass", 2.0 if status == "failed" else 0.0)]
        for layer, table, name, dimension, critical, outcome, value in checks:
            cur.execute("""
                insert into ops.dq_check_results (run_id, layer, table_name, check_name, outcome,
                    measured_value, thresholds, dimension, is_critical, measured_at)
                values (%s, %s, %s, %s, %s, %s, 'fail when > 0', %s, %s, %s) returning result_id""",
                (run_id, layer, table, name, outcome, value, dimension, critical,
                 started + timedelta(seconds=55)))
            result_id = cur.fetchone()[0]
            if outcome == "fail":
                for n in (1, 2):
                    cur.execute("insert into ops.dq_failed_rows values (%s, %s, %s)",
                                (result_id, n, json.dumps({"session_id": "s001", "source_row": n})))
    cur.execute("""
        insert into ops.ingestion_log (source_file, sha256, entity, status, rows_loaded, encoding,
            error, started_at, finished_at, file_format)
        values ('users.csv', 'sha-users', 'users', 'loaded', 7, 'cp1252', null, now() - interval '3 days',
                now() - interval '3 days', 'csv'),
               ('users_copy.csv', 'sha-users', 'users', 'skipped_duplicate', 0, null, null,
                now() - interval '2 days', now() - interval '2 days', 'csv'),
               ('broken/content_bad.json', 'sha-bad', 'content', 'rejected', 0, 'utf-8',
                'truncated JSON at byte 120: the file ends inside an array', now() - interval '1 hour',
                now() - interval '1 hour', 'json'),
               ('notes/readme.txt', null, null, 'ignored', 0, null, null, now() - interval '1 hour',
                now() - interval '1 hour', null)""")
    for entity, bronze, silver, superseded, reasons in [
            ("users", 9, 7, 1, {"missing_key": 1}),
            ("content", 6, 5, 0, {"missing_key": 1}),
            ("viewing_sessions", 66, 60, 2, {"orphan_user": 3, "invalid_timestamp": 1})]:
        cur.execute("""
            insert into ops.entity_accounting (run_id, entity, bronze_rows, silver_rows,
                superseded_rows, rejected_rows, rejected_by_reason, measured_at)
            values ('run-3', %s, %s, %s, %s, %s, %s, %s)""",
            (entity, bronze, silver, superseded, sum(reasons.values()), json.dumps(reasons),
             t0 + timedelta(hours=48)))
