"""sql/gold/content_performance.sql (data-contract.md section 4, gold.content_performance):
is_completed, and completion means and rates over the sessions with a completion_pct only
(null if none); the same definitions carry into gold.genre_performance and gold.kpi_summary."""

from __future__ import annotations

from tests.support.transform import approx, fetch, load_bronze, session_row

from etl.transform import transform


def test_completion_means_and_rates_skip_unknown_durations(medallion_db):
    load_bronze(medallion_db, "users", "users.csv", [{"user_id": "u1"}])
    load_bronze(medallion_db, "content", "content.json", [
        {"content_id": "short", "duration_min": 10, "genres": ["a", "b"]},
        {"content_id": "unknown", "genres": ["b"]}])
    load_bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv", [
        session_row("s1", "u1", "short", "2024-01-01T00:00:00Z", 540),    # 90 %: completed
        session_row("s2", "u1", "short", "2024-01-01T01:00:00Z", 539),    # 89.83 %
        session_row("s3", "u1", "unknown", "2024-01-01T02:00:00Z", 100),  # no completion_pct
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
