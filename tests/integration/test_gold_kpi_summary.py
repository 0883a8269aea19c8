"""sql/gold/kpi_summary.sql (data-contract.md section 4, gold.kpi_summary): active_users_30d
counts the users with a session strictly inside the 720 hours before as_of."""

from __future__ import annotations

from tests.support.transform import fetch, load_bronze, session_row

from etl.transform import transform


def test_active_users_30d_window_is_strict_720_hours(medallion_db):
    load_bronze(medallion_db, "users", "users.csv",
                [{"user_id": u} for u in ["latest", "inside", "edge", "outside"]])
    load_bronze(medallion_db, "content", "content.json", [{"content_id": "c1"}])
    load_bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv", [
        # 2024-03-31 spans a DST change in many zones: the window is 720 hours, not 30 days
        # of some local calendar.
        session_row("s1", "latest", "c1", "2024-04-10T12:00:00Z", 60),
        session_row("s2", "inside", "c1", "2024-03-11T12:00:00.000001Z", 60),
        session_row("s3", "edge", "c1", "2024-03-11T12:00:00Z", 60),     # exactly 720 h: excluded
        session_row("s4", "outside", "c1", "2024-02-01T00:00:00Z", 60),
    ])
    transform()
    kpi = fetch(medallion_db, "select active_users_30d, as_of::text as as_of from gold.kpi_summary")
    assert kpi == [{"active_users_30d": 2, "as_of": "2024-04-10 12:00:00+00"}]
