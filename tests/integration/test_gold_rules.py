"""Gold rules of data-contract.md section 4: sums over no rows are 0 and means null,
segments, is_completed, the strict 720-hour window, and the gold invariants."""

from __future__ import annotations

import pytest
from tests.support.transform import fetch, load_bronze

from etl.transform import transform


def approx(value):
    return pytest.approx(value, rel=1e-6, abs=1e-9)


def _session(session_id, user_id, content_id, started_at, watch_seconds, device="tv"):
    return {"session_id": session_id, "user_id": user_id, "content_id": content_id,
            "started_at": started_at, "ended_at": "", "watch_seconds": str(watch_seconds),
            "device": device}


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


def test_completion_means_and_rates_skip_unknown_durations(medallion_db):
    load_bronze(medallion_db, "users", "users.csv", [{"user_id": "u1"}])
    load_bronze(medallion_db, "content", "content.json", [
        {"content_id": "short", "duration_min": 10, "genres": ["a", "b"]},
        {"content_id": "unknown", "genres": ["b"]}])
    load_bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv", [
        _session("s1", "u1", "short", "2024-01-01T00:00:00Z", 540),    # 90 %: completed
        _session("s2", "u1", "short", "2024-01-01T01:00:00Z", 539),    # 89.83 %
        _session("s3", "u1", "unknown", "2024-01-01T02:00:00Z", 100),  # no completion_pct
    ])
    transform()
    facts = {r["session_id"]: r for r in fetch(medallion_db, "select * from gold.fact_viewing")}
    assert (facts["s1"]["is_completed"], facts["s2"]["is_completed"],
            facts["s3"]["is_completed"]) == (True, False, None)
    perf = {r["content_id"]: r for r in fetch(medallion_db, "select * from gold.content_performance")}
    assert perf["short"]["completion_rate_pct"] == approx(50.0)
    assert perf["short"]["avg_completion_pct"] == approx((90 + 539 / 6) / 2)
    assert perf["unknown"]["views"] == 1
    assert perf["unknown"]["avg_completion_pct"] is None
    assert perf["unknown"]["completion_rate_pct"] is None
    genres = {r["genre"]: r for r in fetch(medallion_db, "select * from gold.genre_performance")}
    assert (genres["a"]["titles"], genres["a"]["views"]) == (1, 2)
    assert (genres["b"]["titles"], genres["b"]["views"]) == (2, 3)  # a session counts per genre
    assert genres["b"]["avg_completion_pct"] == approx((90 + 539 / 6) / 2)
    assert genres["b"]["total_watch_hours"] == approx((540 + 539 + 100) / 3600)
    kpi = fetch(medallion_db, "select * from gold.kpi_summary")[0]
    assert kpi["completion_rate_pct"] == approx(50.0)
    assert kpi["avg_completion_pct"] == approx((90 + 539 / 6) / 2)
    assert kpi["avg_session_minutes"] == approx((540 + 539 + 100) / 3 / 60)


def test_segments_by_total_watch_hours(medallion_db):
    hours = {"light": 3599, "regular_low": 3600, "regular_high": 35999, "heavy": 36000}
    load_bronze(medallion_db, "users", "users.csv",
                [{"user_id": u} for u in [*hours, "inactive"]])
    load_bronze(medallion_db, "content", "content.json", [{"content_id": "c1"}])
    load_bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv", [
        _session(f"s_{u}", u, "c1", "2024-01-01T00:00:00Z", seconds) for u, seconds in hours.items()])
    transform()
    got = {r["user_id"]: r["segment"] for r in fetch(medallion_db, "select * from gold.user_engagement")}
    assert got == {"light": "light", "regular_low": "regular", "regular_high": "regular",
                   "heavy": "heavy", "inactive": "inactive"}


def test_active_users_30d_window_is_strict_720_hours(medallion_db):
    load_bronze(medallion_db, "users", "users.csv",
                [{"user_id": u} for u in ["latest", "inside", "edge", "outside"]])
    load_bronze(medallion_db, "content", "content.json", [{"content_id": "c1"}])
    load_bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv", [
        # 2024-03-31 spans a DST change in many zones: the window is 720 hours, not 30 days
        # of some local calendar.
        _session("s1", "latest", "c1", "2024-04-10T12:00:00Z", 60),
        _session("s2", "inside", "c1", "2024-03-11T12:00:00.000001Z", 60),
        _session("s3", "edge", "c1", "2024-03-11T12:00:00Z", 60),     # exactly 720 h: excluded
        _session("s4", "outside", "c1", "2024-02-01T00:00:00Z", 60),
    ])
    transform()
    kpi = fetch(medallion_db, "select active_users_30d, as_of::text as as_of from gold.kpi_summary")
    assert kpi == [{"active_users_30d": 2, "as_of": "2024-04-10 12:00:00+00"}]


def test_gold_invariants_hold(medallion_db):
    load_bronze(medallion_db, "users", "users.csv",
                [{"user_id": f"u{i}", "country": ["BR", "US", ""][i % 3]} for i in range(9)])
    load_bronze(medallion_db, "content", "content.json", [
        {"content_id": f"c{i}", "duration_min": [30, None, 90][i % 3],
         "genres": [["drama"], ["drama", "comedy"], []][i % 3]} for i in range(6)])
    sessions = []
    for i in range(120):
        sessions.append(_session(f"s{i}", f"u{i % 10}", f"c{i % 7}",
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
