"""shared/spec/worked-example.md, end to end: files -> `medallion run` -> every table it lists.
The one test that asserts the worked example (other tests build on its files but own other rules).

Expected numbers are exact (the example's tables show them rounded), compared
with the contract's tolerance: relative 1e-6, absolute 1e-9 near zero.
"""

from datetime import date, datetime, timezone

import pytest

from etl import db, pipeline
from etl.schema import MONGO_COLLECTION


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def same(actual, expected) -> bool:
    if isinstance(expected, float) and actual is not None:
        return actual == pytest.approx(expected, rel=1e-6, abs=1e-9)
    return actual == expected


def assert_rows(settings, query: str, expected: list[tuple]):
    with db.connect(settings) as conn:
        rows = conn.execute(query).fetchall()
    assert len(rows) == len(expected), rows
    for got, want in zip(rows, expected):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert same(g, w), f"{got} != {want}"


@pytest.fixture
def example_run(medallion_db, worked_example_dir):
    report = pipeline.run(worked_example_dir, settings=medallion_db)
    assert report.status == "success"
    return medallion_db


def test_files(example_run):
    with db.connect(example_run) as conn:
        rows = dict(((r[0], (r[1], r[2], r[3]))) for r in conn.execute(
            "select source_file, status, rows_loaded, encoding from ops.ingestion_log"))
    assert rows["content.json"] == ("loaded", 3, "utf-8")
    assert rows["users.csv"] == ("loaded", 4, "utf-8")
    assert rows["viewing_sessions.csv"] == ("loaded", 8, "utf-8")
    assert rows["README.txt"][:2] == ("ignored", 0)
    assert set(rows) == {"content.json", "users.csv", "viewing_sessions.csv", "README.txt"}


def test_bronze_keeps_values_exactly_and_mongo_gets_the_documents(example_run):
    assert_rows(example_run,
                "select user_id, email, source_file, source_row from bronze.users order by source_row",
                [("u1", " Ana@Example.com ", "users.csv", 1), ("u2", "bob@example", "users.csv", 2),
                 ("u1", "ana@example.com", "users.csv", 3), ("", "nobody@example.com", "users.csv", 4)])
    # values exactly as read: the leading space of " Mobile" too
    assert_rows(example_run, "select session_id, device, source_row from bronze.viewing_sessions "
                             "where session_id = 's2'", [("s2", " Mobile", 2)])
    assert_rows(example_run, "select (select count(*) from bronze.users), "
                             "(select count(*) from bronze.viewing_sessions), "
                             "(select count(*) from bronze.content)", [(4, 8, 3)])
    coll = db.mongo_database(example_run)[MONGO_COLLECTION]
    assert coll.count_documents({}) == 3
    docs = list(coll.find({}, {"_id": 0}).sort("source_row", 1))
    assert [d.get("title") for d in docs] == ["Night Train", "Tiny Docs", "No id"]
    assert all(d["source_file"] == "content.json" and d["ingestion_id"] for d in docs)


def test_silver_accounting(example_run):
    assert_rows(example_run, """
        select entity, bronze_rows, silver_rows, superseded_rows, rejected_rows
        from ops.entity_accounting
        where run_id = (select max(run_id) from ops.entity_accounting) order by entity""",
                [("content", 3, 2, 0, 1), ("users", 4, 2, 1, 1), ("viewing_sessions", 8, 3, 1, 4)])
    assert_rows(example_run, """
        select 'users', reason, count(*) from silver.users_rejected group by reason
        union all select 'content', reason, count(*) from silver.content_rejected group by reason
        union all select 'sessions', reason, count(*) from silver.viewing_sessions_rejected group by reason
        order by 1, 2""",
                [("content", "missing_key", 1), ("sessions", "invalid_timestamp", 1),
                 ("sessions", "negative_duration", 1), ("sessions", "orphan_content", 1),
                 ("sessions", "orphan_user", 1), ("users", "missing_key", 1)])
    assert_rows(example_run,
                "select session_id, reason from silver.viewing_sessions_rejected order by session_id",
                [("s3", "invalid_timestamp"), ("s5", "orphan_user"), ("s6", "orphan_content"),
                 ("s7", "negative_duration")])


def test_silver_users_and_content(example_run):
    assert_rows(example_run, """select user_id, email, full_name, country, signup_date,
                                       subscription_tier, birth_year, updated_at
                                from silver.users order by user_id""",
                [("u1", "ana@example.com", "Ana Lima", "BR", date(2024, 1, 5), "standard", 1990,
                  utc("2024-02-29T22:00:00Z")),
                 ("u2", None, "Bob", None, None, "free", None, utc("2024-02-01T08:00:00Z"))])
    assert_rows(example_run, """select content_id, title, content_type, duration_min, release_year,
                                       imdb_rating, votes from silver.content order by content_id""",
                [("10", "Night Train", "movie", 100.0, 2019, 7.4, 1200),
                 ("11", "Tiny Docs", "documentary", 50.0, None, None, None)])
    assert_rows(example_run, "select content_id, genre, ordinal from silver.content_genres order by 1, 3",
                [("10", "drama", 1), ("10", "thriller", 2), ("11", "nature", 1)])
    assert_rows(example_run, """select session_id, started_at, ended_at, watch_seconds, device,
                                       completion_pct
                                from silver.viewing_sessions order by session_id""",
                [("s1", utc("2024-03-01T20:00:00Z"), utc("2024-03-01T21:10:00Z"), 4200, "tv", 70.0),
                 ("s2", utc("2024-03-03T01:30:00Z"), None, 1500, "mobile", 50.0),
                 ("s4", utc("2024-03-03T10:00:00Z"), utc("2024-03-03T10:30:30.5Z"), 1830, "tablet",
                  30.5)])


def test_gold_fact_viewing(example_run):
    assert_rows(example_run, """
        select session_id, user_id, content_id, started_at, session_date, device, watch_seconds,
               completion_pct, is_completed, country, subscription_tier, content_title,
               content_type, primary_genre
        from gold.fact_viewing order by session_id""", [
        ("s1", "u1", "10", utc("2024-03-01T20:00:00Z"), date(2024, 3, 1), "tv", 4200, 70.0, False,
         "BR", "standard", "Night Train", "movie", "drama"),
        ("s2", "u1", "11", utc("2024-03-03T01:30:00Z"), date(2024, 3, 3), "mobile", 1500, 50.0, False,
         "BR", "standard", "Tiny Docs", "documentary", "nature"),
        ("s4", "u2", "10", utc("2024-03-03T10:00:00Z"), date(2024, 3, 3), "tablet", 1830, 30.5, False,
         None, "free", "Night Train", "movie", "drama"),
    ])


def test_gold_aggregates(example_run):
    assert_rows(example_run, """select content_id, title, content_type, views, unique_viewers,
                                       total_watch_hours, avg_completion_pct, completion_rate_pct
                                from gold.content_performance order by content_id""",
                [("10", "Night Train", "movie", 2, 2, 6030 / 3600, 50.25, 0.0),
                 ("11", "Tiny Docs", "documentary", 1, 1, 1500 / 3600, 50.0, 0.0)])
    assert_rows(example_run, """select user_id, country, subscription_tier, sessions, total_watch_hours,
                                       active_days, first_session_at, last_session_at,
                                       avg_session_minutes, segment
                                from gold.user_engagement order by user_id""",
                [("u1", "BR", "standard", 2, 5700 / 3600, 2, utc("2024-03-01T20:00:00Z"),
                  utc("2024-03-03T01:30:00Z"), 47.5, "regular"),
                 ("u2", None, "free", 1, 1830 / 3600, 1, utc("2024-03-03T10:00:00Z"),
                  utc("2024-03-03T10:00:00Z"), 30.5, "light")])
    assert_rows(example_run, """select genre, titles, views, unique_viewers, total_watch_hours,
                                       avg_completion_pct from gold.genre_performance order by genre""",
                [("drama", 1, 2, 2, 6030 / 3600, 50.25), ("nature", 1, 1, 1, 1500 / 3600, 50.0),
                 ("thriller", 1, 2, 2, 6030 / 3600, 50.25)])
    assert_rows(example_run, """select country, users, active_users, sessions, total_watch_hours,
                                       avg_session_minutes from gold.country_insights order by country""",
                [("BR", 1, 1, 2, 5700 / 3600, 47.5), ("unknown", 1, 1, 1, 1830 / 3600, 30.5)])
    assert_rows(example_run, """select session_date, device, sessions, unique_users, total_watch_hours,
                                       avg_completion_pct from gold.daily_viewing order by 1, 2""",
                [(date(2024, 3, 1), "tv", 1, 1, 4200 / 3600, 70.0),
                 (date(2024, 3, 3), "mobile", 1, 1, 1500 / 3600, 50.0),
                 (date(2024, 3, 3), "tablet", 1, 1, 1830 / 3600, 30.5)])
    assert_rows(example_run, """select users, active_users_30d, sessions, total_watch_hours,
                                       avg_session_minutes, avg_completion_pct, completion_rate_pct, as_of
                                from gold.kpi_summary""",
                [(2, 2, 3, 7530 / 3600, 7530 / 3 / 60, 150.5 / 3, 0.0, utc("2024-03-03T10:00:00Z"))])


def test_run_is_recorded_with_metrics(example_run):
    with db.connect(example_run) as conn:
        status, failed, ok, silver_rows, score = conn.execute(
            """select status, tasks_failed, tasks_succeeded, rows_silver, dq_score_silver
               from ops.pipeline_runs order by started_at desc limit 1""").fetchone()
    assert (status, failed) == ("success", 0)
    assert ok >= 7 and silver_rows and score == pytest.approx(100.0)
