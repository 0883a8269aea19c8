"""Every table of shared/spec/worked-example.md, built from tests/fixtures/worked_example.

The example displays numbers rounded to 4 significant figures; the expected values here are
the exact ones, worked out by hand (e.g. 1.675 = (4200 + 1830) / 3600), compared with a
relative tolerance of 1e-6."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from tests.support.transform import fetch, load_worked_example, table

from etl.transform import transform


def _t(*parts):
    return datetime(*parts, tzinfo=timezone.utc)


def approx(value):
    return pytest.approx(value, rel=1e-6, abs=1e-9)


@pytest.fixture
def built(medallion_db):
    load_worked_example(medallion_db)
    report = transform(full_refresh=True)
    return medallion_db, report


def _assert_rows(actual: list[dict], expected: list[dict]):
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        assert set(want) <= set(got)
        for key, value in want.items():
            if isinstance(value, float):
                assert got[key] == approx(value), key
            else:
                assert got[key] == value, key


def test_silver_accounting(built):
    settings, report = built
    acc = {e: (a.bronze, a.silver, a.superseded, a.rejected, a.rejected_by_reason)
           for e, a in report.accounting.items()}
    assert acc == {
        "users": (4, 2, 1, 1, {"missing_key": 1}),
        "viewing_sessions": (8, 3, 1, 4, {"invalid_timestamp": 1, "negative_duration": 1,
                                          "orphan_user": 1, "orphan_content": 1}),
        "content": (3, 2, 0, 1, {"missing_key": 1}),
    }
    rejected = fetch(settings, "select session_id, reason from silver.viewing_sessions_rejected "
                               "order by session_id")
    assert [(r["session_id"], r["reason"]) for r in rejected] == [
        ("s3", "invalid_timestamp"), ("s5", "orphan_user"), ("s6", "orphan_content"),
        ("s7", "negative_duration")]


def test_silver_users_and_content(built):
    settings, _ = built
    _assert_rows(table(settings, "silver.users", "user_id"), [
        {"user_id": "u1", "email": "ana@example.com", "full_name": "Ana Lima", "country": "BR",
         "signup_date": date(2024, 1, 5), "subscription_tier": "standard", "birth_year": 1990,
         "updated_at": _t(2024, 2, 29, 22)},
        {"user_id": "u2", "email": None, "full_name": "Bob", "country": None, "signup_date": None,
         "subscription_tier": "free", "birth_year": None, "updated_at": _t(2024, 2, 1, 8)},
    ])
    _assert_rows(table(settings, "silver.content", "content_id"), [
        {"content_id": "10", "title": "Night Train", "content_type": "movie",
         "duration_min": 100.0, "release_year": 2019, "imdb_rating": 7.4, "votes": 1200},
        {"content_id": "11", "title": "Tiny Docs", "content_type": "documentary",
         "duration_min": 50.0, "release_year": None, "imdb_rating": None, "votes": None},
    ])
    _assert_rows(table(settings, "silver.content_genres", "content_id, ordinal"), [
        {"content_id": "10", "genre": "drama", "ordinal": 1},
        {"content_id": "10", "genre": "thriller", "ordinal": 2},
        {"content_id": "11", "genre": "nature", "ordinal": 1},
    ])
    _assert_rows(table(settings, "silver.viewing_sessions", "session_id"), [
        {"session_id": "s1", "watch_seconds": 4200, "device": "tv", "completion_pct": 70.0},
        {"session_id": "s2", "watch_seconds": 1500, "device": "mobile", "completion_pct": 50.0,
         "started_at": _t(2024, 3, 3, 1, 30)},
        {"session_id": "s4", "watch_seconds": 1830, "device": "tablet", "completion_pct": 30.5},
    ])


def test_fact_viewing(built):
    settings, _ = built
    _assert_rows(table(settings, "gold.fact_viewing", "session_id"), [
        {"session_id": "s1", "user_id": "u1", "content_id": "10", "started_at": _t(2024, 3, 1, 20),
         "session_date": date(2024, 3, 1), "device": "tv", "watch_seconds": 4200,
         "completion_pct": 70.0, "is_completed": False, "country": "BR",
         "subscription_tier": "standard", "content_title": "Night Train", "content_type": "movie",
         "primary_genre": "drama"},
        {"session_id": "s2", "user_id": "u1", "content_id": "11", "started_at": _t(2024, 3, 3, 1, 30),
         "session_date": date(2024, 3, 3), "device": "mobile", "watch_seconds": 1500,
         "completion_pct": 50.0, "is_completed": False, "country": "BR",
         "subscription_tier": "standard", "content_title": "Tiny Docs",
         "content_type": "documentary", "primary_genre": "nature"},
        {"session_id": "s4", "user_id": "u2", "content_id": "10", "started_at": _t(2024, 3, 3, 10),
         "session_date": date(2024, 3, 3), "device": "tablet", "watch_seconds": 1830,
         "completion_pct": 30.5, "is_completed": False, "country": None,
         "subscription_tier": "free", "content_title": "Night Train", "content_type": "movie",
         "primary_genre": "drama"},
    ])


def test_content_performance(built):
    settings, _ = built
    _assert_rows(table(settings, "gold.content_performance", "content_id"), [
        {"content_id": "10", "title": "Night Train", "content_type": "movie", "views": 2,
         "unique_viewers": 2, "total_watch_hours": (4200 + 1830) / 3600,
         "avg_completion_pct": (70 + 30.5) / 2, "completion_rate_pct": 0.0},
        {"content_id": "11", "title": "Tiny Docs", "content_type": "documentary", "views": 1,
         "unique_viewers": 1, "total_watch_hours": 1500 / 3600, "avg_completion_pct": 50.0,
         "completion_rate_pct": 0.0},
    ])


def test_user_engagement(built):
    settings, _ = built
    _assert_rows(table(settings, "gold.user_engagement", "user_id"), [
        {"user_id": "u1", "country": "BR", "subscription_tier": "standard", "sessions": 2,
         "total_watch_hours": (4200 + 1500) / 3600, "active_days": 2,
         "first_session_at": _t(2024, 3, 1, 20), "last_session_at": _t(2024, 3, 3, 1, 30),
         "avg_session_minutes": (4200 + 1500) / 2 / 60, "segment": "regular"},
        {"user_id": "u2", "country": None, "subscription_tier": "free", "sessions": 1,
         "total_watch_hours": 1830 / 3600, "active_days": 1,
         "first_session_at": _t(2024, 3, 3, 10), "last_session_at": _t(2024, 3, 3, 10),
         "avg_session_minutes": 1830 / 60, "segment": "light"},
    ])


def test_genre_performance(built):
    settings, _ = built
    night_train = {"titles": 1, "views": 2, "unique_viewers": 2,
                   "total_watch_hours": (4200 + 1830) / 3600, "avg_completion_pct": 50.25}
    _assert_rows(table(settings, "gold.genre_performance", "genre"), [
        {"genre": "drama", **night_train},
        {"genre": "nature", "titles": 1, "views": 1, "unique_viewers": 1,
         "total_watch_hours": 1500 / 3600, "avg_completion_pct": 50.0},
        {"genre": "thriller", **night_train},
    ])


def test_country_insights(built):
    settings, _ = built
    _assert_rows(table(settings, "gold.country_insights", "country"), [
        {"country": "BR", "users": 1, "active_users": 1, "sessions": 2,
         "total_watch_hours": 5700 / 3600, "avg_session_minutes": 47.5},
        {"country": "unknown", "users": 1, "active_users": 1, "sessions": 1,
         "total_watch_hours": 1830 / 3600, "avg_session_minutes": 30.5},
    ])


def test_daily_viewing(built):
    settings, _ = built
    _assert_rows(table(settings, "gold.daily_viewing", "session_date, device"), [
        {"session_date": date(2024, 3, 1), "device": "tv", "sessions": 1, "unique_users": 1,
         "total_watch_hours": 4200 / 3600, "avg_completion_pct": 70.0},
        {"session_date": date(2024, 3, 3), "device": "mobile", "sessions": 1, "unique_users": 1,
         "total_watch_hours": 1500 / 3600, "avg_completion_pct": 50.0},
        {"session_date": date(2024, 3, 3), "device": "tablet", "sessions": 1, "unique_users": 1,
         "total_watch_hours": 1830 / 3600, "avg_completion_pct": 30.5},
    ])


def test_kpi_summary(built):
    settings, _ = built
    _assert_rows(table(settings, "gold.kpi_summary", "as_of"), [
        {"users": 2, "active_users_30d": 2, "sessions": 3,
         "total_watch_hours": (4200 + 1500 + 1830) / 3600,
         "avg_session_minutes": (4200 + 1500 + 1830) / 3 / 60,
         "avg_completion_pct": (70 + 50 + 30.5) / 3, "completion_rate_pct": 0.0,
         "as_of": _t(2024, 3, 3, 10)},
    ])
