"""The worked example of shared/spec/worked-example.md, written straight into every layer.

Bronze holds the three files exactly as read, silver and its rejected tables what the
contract makes of them, gold is derived from that silver with the contract's formulas,
and ops holds the ingestion log (with one rejected and one ignored file: dirty input the
contract handles) and the accounting the transform would have recorded. Every check of
checks/ should pass on it, except the warning about the rejected file.
"""

from __future__ import annotations

import json

import psycopg

from etl import sql_runner

RUN_ID = "run-we-1"

USERS_CSV = [  # user_id, email, full_name, country, signup_date, subscription_tier, birth_year, updated_at
    ("u1", " Ana@Example.com ", "Ana Lima", "br", "2024-01-05", "Premium", "1990", "2024-01-05T10:00:00Z"),
    ("u2", "bob@example", "Bob", "USA", "2024/02/30", "free", "1850", "2024-02-01 08:00:00"),
    ("u1", "ana@example.com", "Ana Lima", "BR", "2024-01-05", "standard", "1990", "2024-03-01T00:00:00+02:00"),
    ("", "nobody@example.com", "No Key", "US", "2024-01-01", "free", "2000", "2024-01-01T00:00:00Z"),
]
SESSIONS_CSV = [  # session_id, user_id, content_id, started_at, ended_at, watch_seconds, device
    ("s1", "u1", "10", "2024-03-01T20:00:00Z", "2024-03-01T21:40:00Z", "6000", "TV"),
    ("s2", "u1", "11", "2024-03-02 23:30:00-02:00", "", "1500", " Mobile"),
    ("s3", "u2", "10", "now", "", "600", "web"),
    ("s4", "u2", "10", "2024-03-03T10:00:00Z", "2024-03-03T10:30:30.500Z", "", "tablet"),
    ("s5", "u9", "10", "2024-03-03T11:00:00Z", "", "100", "web"),
    ("s6", "u2", "12", "2024-03-03T12:00:00Z", "", "100", "web"),
    ("s7", "u2", "10", "2024-03-04T12:00:00Z", "2024-03-04T11:00:00Z", "100", "Smart TV"),
    ("s1", "u1", "10", "2024-03-01T20:00:00Z", "2024-03-01T21:10:00Z", "4200", "tv"),
]
CONTENT_JSON = [
    {"content_id": 10, "title": "Night Train", "content_type": "Movie",
     "genres": ["Drama", " thriller ", "drama"], "duration_min": 100, "release": {"year": 2019},
     "ratings": {"imdb": 7.4, "votes": 1200}, "updated_at": "2024-01-01T00:00:00Z"},
    {"content_id": "11", "title": "Tiny Docs", "content_type": "documentary", "genres": "Nature",
     "duration_min": "50", "updated_at": "2024-01-01T00:00:00Z"},
    {"title": "No id"},
]

# ingestion_id, source_file, entity, status, rows_loaded, error
INGESTION_LOG = [
    (1, "content.json", "content", "loaded", 3, None),
    (2, "users.csv", "users", "loaded", 4, None),
    (3, "viewing_sessions.csv", "viewing_sessions", "loaded", 8, None),
    (4, "users_broken.csv", "users", "rejected", 0,
     "users_broken.csv: required column 'email' is missing from the header; add it and land the file again"),
    (5, "README.txt", None, "ignored", 0, None),
]
USERS_ID, SESSIONS_ID, CONTENT_ID = 2, 3, 1

SILVER_USERS = [  # ... + source_row
    ("u1", "ana@example.com", "Ana Lima", "BR", "2024-01-05", "standard", 1990,
     "2024-03-01T00:00:00+02:00", 3),
    ("u2", None, "Bob", None, None, "free", None, "2024-02-01T08:00:00Z", 2),
]
SILVER_CONTENT = [
    ("10", "Night Train", "movie", 100.0, 2019, 7.4, 1200, None, "2024-01-01T00:00:00Z", 1),
    ("11", "Tiny Docs", "documentary", 50.0, None, None, None, None, "2024-01-01T00:00:00Z", 2),
]
SILVER_GENRES = [("10", "drama", 1), ("10", "thriller", 2), ("11", "nature", 1)]
SILVER_SESSIONS = [
    ("s1", "u1", "10", "2024-03-01T20:00:00Z", "2024-03-01T21:10:00Z", 4200, "tv", 70.0, 8),
    ("s2", "u1", "11", "2024-03-03T01:30:00Z", None, 1500, "mobile", 50.0, 2),
    ("s4", "u2", "10", "2024-03-03T10:00:00Z", "2024-03-03T10:30:30.5Z", 1830, "tablet", 30.5, 4),
]
REJECTED_SESSIONS = [(3, "invalid_timestamp"), (5, "orphan_user"), (6, "orphan_content"),
                     (7, "negative_duration")]

ACCOUNTING = [  # entity, bronze, silver, superseded, rejected, by reason
    ("users", 4, 2, 1, 1, {"missing_key": 1}),
    ("viewing_sessions", 8, 3, 1, 4, {"invalid_timestamp": 1, "orphan_user": 1,
                                      "orphan_content": 1, "negative_duration": 1}),
    ("content", 3, 2, 0, 1, {"missing_key": 1}),
]

# Gold from silver, with the contract's formulas (section 4).
GOLD_SQL = [
    """insert into gold.fact_viewing
       select s.session_id, s.user_id, s.content_id, s.started_at,
              (s.started_at at time zone 'UTC')::date, s.device, s.watch_seconds, s.completion_pct,
              s.completion_pct >= 90, u.country, u.subscription_tier, c.title, c.content_type,
              g.genre
       from silver.viewing_sessions s
       join silver.users u using (user_id)
       join silver.content c using (content_id)
       left join silver.content_genres g on g.content_id = s.content_id and g.ordinal = 1""",
    """insert into gold.content_performance
       select c.content_id, c.title, c.content_type, count(f.session_id),
              count(distinct f.user_id), coalesce(sum(f.watch_seconds), 0) / 3600.0,
              avg(f.completion_pct),
              100.0 * count(*) filter (where f.is_completed) / nullif(count(f.completion_pct), 0)
       from silver.content c left join gold.fact_viewing f using (content_id)
       group by c.content_id, c.title, c.content_type""",
    """insert into gold.user_engagement
       select u.user_id, u.country, u.subscription_tier, count(f.session_id),
              coalesce(sum(f.watch_seconds), 0) / 3600.0, count(distinct f.session_date),
              min(f.started_at), max(f.started_at), avg(f.watch_seconds) / 60.0,
              case when count(f.session_id) = 0 then 'inactive'
                   when coalesce(sum(f.watch_seconds), 0) < 3600 then 'light'
                   when coalesce(sum(f.watch_seconds), 0) < 36000 then 'regular'
                   else 'heavy' end
       from silver.users u left join gold.fact_viewing f using (user_id)
       group by u.user_id, u.country, u.subscription_tier""",
    """insert into gold.genre_performance
       select g.genre, count(distinct g.content_id), count(f.session_id),
              count(distinct f.user_id), coalesce(sum(f.watch_seconds), 0) / 3600.0,
              avg(f.completion_pct)
       from silver.content_genres g left join gold.fact_viewing f using (content_id)
       group by g.genre""",
    """insert into gold.country_insights
       select coalesce(u.country, 'unknown'), count(distinct u.user_id),
              count(distinct f.user_id), count(f.session_id),
              coalesce(sum(f.watch_seconds), 0) / 3600.0, avg(f.watch_seconds) / 60.0
       from silver.users u left join gold.fact_viewing f using (user_id)
       group by coalesce(u.country, 'unknown')""",
    """insert into gold.daily_viewing
       select session_date, device, count(*), count(distinct user_id),
              sum(watch_seconds) / 3600.0, avg(completion_pct)
       from gold.fact_viewing group by session_date, device""",
    """insert into gold.kpi_summary
       select (select count(*) from silver.users),
              (select count(distinct user_id) from gold.fact_viewing
               where started_at > (select max(started_at) from gold.fact_viewing) - interval '720 hours'),
              count(*), coalesce(sum(watch_seconds), 0) / 3600.0, avg(watch_seconds) / 60.0,
              avg(completion_pct),
              100.0 * count(*) filter (where is_completed) / nullif(count(completion_pct), 0),
              max(started_at)
       from gold.fact_viewing""",
]


def load(conn: psycopg.Connection) -> None:
    """Write the whole worked example into an initialised, empty database."""
    with conn.transaction():
        _load_ops(conn)
        _load_bronze(conn)
        _load_silver(conn)
        for statement in GOLD_SQL:
            conn.execute(statement)
        for statement in aggregate_statements():
            conn.execute(statement)


# The console's aggregate tables are built by their own models, as `medallion run` does.
AGGREGATE_MODELS = ("daily_segment_viewing", "user_daily_viewing")


def aggregate_statements() -> list[str]:
    """The statements a full refresh of the gold models behind the console's filtered views
    runs (in one transaction: their temporary tables are dropped at commit)."""
    return [statement for name in AGGREGATE_MODELS
            for statement in sql_runner.load_model(
                sql_runner.SQL_DIR / "gold" / f"{name}.sql", "gold").statements_for("full")]


def _load_ops(conn) -> None:
    for ingestion_id, source_file, entity, status, rows, error in INGESTION_LOG:
        conn.execute(
            """insert into ops.ingestion_log (ingestion_id, source_file, sha256, entity, status,
                   rows_loaded, encoding, error, finished_at, run_id)
               values (%s, %s, md5(%s), %s, %s, %s, %s, %s, now(), %s)""",
            (ingestion_id, source_file, source_file, entity, status, rows,
             "utf-8" if status == "loaded" else None, error, RUN_ID),
        )
    conn.execute("select setval('ops.ingestion_log_ingestion_id_seq', 5)")
    for entity, bronze, silver, superseded, rejected, reasons in ACCOUNTING:
        conn.execute(
            """insert into ops.entity_accounting (run_id, entity, bronze_rows, silver_rows,
                   superseded_rows, rejected_rows, rejected_by_reason)
               values (%s, %s, %s, %s, %s, %s, %s)""",
            (RUN_ID, entity, bronze, silver, superseded, rejected, json.dumps(reasons)),
        )


def _load_bronze(conn) -> None:
    for row_number, row in enumerate(USERS_CSV, start=1):
        conn.execute(
            """insert into bronze.users (user_id, email, full_name, country, signup_date,
                   subscription_tier, birth_year, updated_at, ingestion_id, source_file, source_row)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'users.csv', %s)""",
            (*row, USERS_ID, row_number),
        )
    for row_number, row in enumerate(SESSIONS_CSV, start=1):
        conn.execute(
            """insert into bronze.viewing_sessions (session_id, user_id, content_id, started_at,
                   ended_at, watch_seconds, device, ingestion_id, source_file, source_row)
               values (%s, %s, %s, %s, %s, %s, %s, %s, 'viewing_sessions.csv', %s)""",
            (*row, SESSIONS_ID, row_number),
        )
    for row_number, doc in enumerate(CONTENT_JSON, start=1):
        conn.execute(
            """insert into bronze.content (doc, ingestion_id, source_file, source_row)
               values (%s, %s, 'content.json', %s)""",
            (json.dumps(doc), CONTENT_ID, row_number),
        )


def _load_silver(conn) -> None:
    for *values, source_row in SILVER_USERS:
        conn.execute(
            """insert into silver.users (user_id, email, full_name, country, signup_date,
                   subscription_tier, birth_year, updated_at, ingestion_id, source_file, source_row)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'users.csv', %s)""",
            (*values, USERS_ID, source_row),
        )
    conn.execute(
        """insert into silver.users_rejected (user_id, reason, ingestion_id, source_file,
               source_row, raw_record)
           select nullif(user_id, ''), 'missing_key', ingestion_id, source_file, source_row,
                  to_jsonb(b) - 'ingestion_id' - 'source_file' - 'source_row'
                              - 'ingestion_timestamp' - 'extra'
           from bronze.users b where source_row = 4"""
    )
    for *values, source_row in SILVER_CONTENT:
        conn.execute(
            """insert into silver.content (content_id, title, content_type, duration_min,
                   release_year, imdb_rating, votes, maturity_rating, updated_at, ingestion_id,
                   source_file, source_row)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'content.json', %s)""",
            (*values, CONTENT_ID, source_row),
        )
    for row in SILVER_GENRES:
        conn.execute("insert into silver.content_genres (content_id, genre, ordinal) "
                     "values (%s, %s, %s)", row)
    conn.execute(
        """insert into silver.content_rejected (content_id, reason, ingestion_id, source_file,
               source_row, raw_record)
           select null, 'missing_key', ingestion_id, source_file, source_row, doc
           from bronze.content where source_row = 3"""
    )
    for *values, source_row in SILVER_SESSIONS:
        conn.execute(
            """insert into silver.viewing_sessions (session_id, user_id, content_id, started_at,
                   ended_at, watch_seconds, device, completion_pct, ingestion_id, source_file,
                   source_row)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'viewing_sessions.csv', %s)""",
            (*values, SESSIONS_ID, source_row),
        )
    for source_row, reason in REJECTED_SESSIONS:
        conn.execute(
            """insert into silver.viewing_sessions_rejected (session_id, reason, ingestion_id,
                   source_file, source_row, raw_record)
               select nullif(session_id, ''), %s, ingestion_id, source_file, source_row,
                      to_jsonb(b) - 'ingestion_id' - 'source_file' - 'source_row'
                                  - 'ingestion_timestamp' - 'extra'
               from bronze.viewing_sessions b where source_row = %s""",
            (reason, source_row),
        )
