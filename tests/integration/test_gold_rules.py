"""The rules of data-contract.md section 4 that hold across every gold model: sums over no
rows are 0 and means null, session_date is the UTC date, and the gold invariants. Each
model's own definitions are owned by its file (test_gold_<model>.py)."""

from __future__ import annotations

from tests.support.transform import approx, fetch, load_bronze, session_row

from etl.transform import transform


def test_empty_database_gives_zero_sums_and_null_means(medallion_db):
    transform()
    kpi = fetch(medallion_db, "select * from gold.kpi_summary")
    assert kpi == [{"users": 0, "active_users_30d": 0, "sessions": 0, "total_watch_hours": 0.0,
                    "avg_session_minutes": None, "avg_completion_pct": None,
                    "completion_rate_pct": None, "as_of": None}]
    for name in ["fact_viewing", "content_performance", "user_engagement", "genre_performance",
                 "country_insights", "daily_viewing"]:
        assert fetch(medallion_db, f"select count(*) as n from gold.{name}") == [{"n": 0}]


def test_no_sessions_means_zero_sums_and_null_means(medallion_db):
    load_bronze(medallion_db, "users", "users.csv", [
        {"user_id": "u1", "country": "BR"}, {"user_id": "u2"}])
    load_bronze(medallion_db, "content", "content.json", [
        {"content_id": "c1", "genres": ["drama"], "duration_min": 10}])
    transform()
    assert fetch(medallion_db, "select * from gold.user_engagement order by user_id") == [
        {"user_id": "u1", "country": "BR", "subscription_tier": "unknown", "sessions": 0,
         "total_watch_hours": 0.0, "active_days": 0, "first_session_at": None,
         "last_session_at": None, "avg_session_minutes": None, "segment": "inactive"},
        {"user_id": "u2", "country": None, "subscription_tier": "unknown", "sessions": 0,
         "total_watch_hours": 0.0, "active_days": 0, "first_session_at": None,
         "last_session_at": None, "avg_session_minutes": None, "segment": "inactive"},
    ]
    assert fetch(medallion_db, "select * from gold.content_performance") == [
        {"content_id": "c1", "title": None, "content_type": "unknown", "views": 0,
         "unique_viewers": 0, "total_watch_hours": 0.0, "avg_completion_pct": None,
         "completion_rate_pct": None}]
    assert fetch(medallion_db, "select * from gold.genre_performance") == [
        {"genre": "drama", "titles": 1, "views": 0, "unique_viewers": 0, "total_watch_hours": 0.0,
         "avg_completion_pct": None}]
    assert fetch(medallion_db, "select * from gold.country_insights order by country") == [
        {"country": "BR", "users": 1, "active_users": 0, "sessions": 0, "total_watch_hours": 0.0,
         "avg_session_minutes": None},
        {"country": "unknown", "users": 1, "active_users": 0, "sessions": 0,
         "total_watch_hours": 0.0, "avg_session_minutes": None}]
    assert fetch(medallion_db, "select users, sessions, total_watch_hours, as_of, "
                               "avg_completion_pct from gold.kpi_summary") == [
        {"users": 2, "sessions": 0, "total_watch_hours": 0.0, "as_of": None,
         "avg_completion_pct": None}]


def test_gold_invariants_hold(medallion_db):
    load_bronze(medallion_db, "users", "users.csv",
                [{"user_id": f"u{i}", "country": ["BR", "US", ""][i % 3]} for i in range(9)])
    load_bronze(medallion_db, "content", "content.json", [
        {"content_id": f"c{i}", "duration_min": [30, None, 90][i % 3],
         "genres": [["drama"], ["drama", "comedy"], []][i % 3]} for i in range(6)])
    sessions = []
    for i in range(120):
        sessions.append(session_row(f"s{i}", f"u{i % 10}", f"c{i % 7}",
                                 f"2024-03-{1 + i % 28:02d}T{i % 24:02d}:15:00-05:00",
                                 (i * 397) % 7000, ["tv", "web", "Phone"][i % 3]))
    load_bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv", sessions)
    transform()
    q = lambda sql: fetch(medallion_db, sql)[0]["v"]  # noqa: E731
    assert q("select count(*) as v from gold.fact_viewing") > 50
    for name, cols in {
        "fact_viewing": ["watch_seconds", "completion_pct"],
        "content_performance": ["views", "unique_viewers", "total_watch_hours",
                                "avg_completion_pct", "completion_rate_pct"],
        "user_engagement": ["sessions", "total_watch_hours", "active_days", "avg_session_minutes"],
        "genre_performance": ["titles", "views", "unique_viewers", "total_watch_hours",
                              "avg_completion_pct"],
        "country_insights": ["users", "active_users", "sessions", "total_watch_hours",
                             "avg_session_minutes"],
        "daily_viewing": ["sessions", "unique_users", "total_watch_hours", "avg_completion_pct"],
        "kpi_summary": ["users", "active_users_30d", "sessions", "total_watch_hours",
                        "avg_session_minutes", "avg_completion_pct", "completion_rate_pct"],
    }.items():
        negatives = " or ".join(f"{c} < 0" for c in cols)
        assert q(f"select count(*) as v from gold.{name} where {negatives}") == 0, name
    for name, col in [("fact_viewing", "completion_pct"), ("content_performance", "avg_completion_pct"),
                      ("content_performance", "completion_rate_pct"),
                      ("genre_performance", "avg_completion_pct"),
                      ("daily_viewing", "avg_completion_pct"), ("kpi_summary", "avg_completion_pct"),
                      ("kpi_summary", "completion_rate_pct")]:
        assert q(f"select count(*) as v from gold.{name} where {col} not between 0 and 100") == 0
    assert q("select count(*) as v from gold.content_performance where unique_viewers > views") == 0
    assert q("select count(*) as v from gold.genre_performance where unique_viewers > views") == 0
    daily = fetch(medallion_db, "select sum(sessions) as n, sum(total_watch_hours) as h "
                                "from gold.daily_viewing")[0]
    fact = fetch(medallion_db, "select count(*) as n, sum(watch_seconds) / 3600.0 as h "
                               "from gold.fact_viewing")[0]
    assert daily["n"] == fact["n"]
    assert daily["h"] == approx(float(fact["h"]))
    kpi = fetch(medallion_db, "select * from gold.kpi_summary")[0]
    assert kpi["sessions"] == fact["n"]
    assert kpi["total_watch_hours"] == approx(float(fact["h"]))
    # session_date is the UTC date of started_at, whatever the offset it arrived with
    assert q("select count(*) as v from gold.fact_viewing "
             "where session_date <> (started_at at time zone 'UTC')::date") == 0
    users = fetch(medallion_db, "select sum(users) as u, sum(sessions) as s from gold.country_insights")[0]
    assert users["u"] == q("select count(*) as v from silver.users")
    assert users["s"] == fact["n"]
