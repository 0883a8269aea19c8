"""sql/gold/user_engagement.sql (data-contract.md section 4, gold.user_engagement): the
segments by total watch hours."""

from __future__ import annotations

from tests.support.transform import fetch, load_bronze, session_row

from etl.transform import transform


def test_segments_by_total_watch_hours(medallion_db):
    hours = {"light": 3599, "regular_low": 3600, "regular_high": 35999, "heavy": 36000}
    load_bronze(medallion_db, "users", "users.csv",
                [{"user_id": u} for u in [*hours, "inactive"]])
    load_bronze(medallion_db, "content", "content.json", [{"content_id": "c1"}])
    load_bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv", [
        session_row(f"s_{u}", u, "c1", "2024-01-01T00:00:00Z", seconds) for u, seconds in hours.items()])
    transform()
    got = {r["user_id"]: r["segment"] for r in fetch(medallion_db, "select * from gold.user_engagement")}
    assert got == {"light": "light", "regular_low": "regular", "regular_high": "regular",
                   "heavy": "heavy", "inactive": "inactive"}
