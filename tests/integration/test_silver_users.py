"""sql/silver/users.sql on real PostgreSQL (data-contract.md section 3, silver.users): the
user key trimmed, the latest version by updated_at (ties to the later row), and each
field's cleaning (email, full_name, country, subscription_tier)."""

from __future__ import annotations

from tests.support.transform import fetch, load_bronze

from etl.transform import build_silver


def test_users_latest_by_updated_at_with_ties_to_the_later_row(medallion_db):
    load_bronze(medallion_db, "users", "users_a.csv", [
        # u1: the greatest updated_at wins even from an earlier row
        {"user_id": "u1", "subscription_tier": "premium", "updated_at": "2024-03-01T00:00:00Z"},
        {"user_id": "u1", "subscription_tier": "free", "updated_at": "2024-02-01T00:00:00Z"},
        # u2: an equal instant (another offset) is a tie: the later row wins
        {"user_id": "u2", "subscription_tier": "basic", "updated_at": "2024-01-01T00:00:00Z"},
        {"user_id": "u2", "subscription_tier": "premium", "updated_at": "2024-01-01T02:00:00+02:00"},
        # u3: an invalid or empty updated_at counts as the oldest
        {"user_id": "u3", "subscription_tier": "basic", "updated_at": "1990-01-01T00:00:00Z"},
        {"user_id": "u3", "subscription_tier": "premium", "updated_at": "now"},
        {"user_id": "u3", "subscription_tier": "standard", "updated_at": ""},
        # u4: all invalid: the later row wins
        {"user_id": "u4", "subscription_tier": "basic", "updated_at": "infinity"},
        {"user_id": "u4", "subscription_tier": "premium", "updated_at": ""},
    ])
    load_bronze(medallion_db, "users", "users_b.csv", [
        # u5: a tie across files goes to the later file
        {"user_id": "u5", "subscription_tier": "premium", "updated_at": "2024-01-01T00:00:00Z"},
    ])
    load_bronze(medallion_db, "users", "users_a.csv", [
        {"user_id": "u5", "subscription_tier": "basic", "updated_at": "2024-01-01T00:00:00Z"},
        # u6: same path ingested again later: a tie goes to the later ingestion
        {"user_id": "u6", "subscription_tier": "basic", "updated_at": "2024-01-01T00:00:00Z"},
    ])
    load_bronze(medallion_db, "users", "users_a.csv", [
        {"user_id": "u6", "subscription_tier": "premium", "updated_at": "2024-01-01T00:00:00Z"},
        {"user_id": "", "subscription_tier": "premium"},
        {"user_id": "\t", "subscription_tier": "premium"},
    ])
    build_silver()
    got = {r["user_id"]: r["subscription_tier"] for r in fetch(medallion_db, "select * from silver.users")}
    assert got == {"u1": "premium", "u2": "premium", "u3": "basic", "u4": "premium",
                   "u5": "premium", "u6": "premium"}
    rejected = fetch(medallion_db, "select user_id, reason from silver.users_rejected")
    assert rejected == [{"user_id": None, "reason": "missing_key"}] * 2
    acc = fetch(medallion_db, "select * from ops.entity_accounting where entity = 'users'")[0]
    assert (acc["bronze_rows"], acc["silver_rows"], acc["superseded_rows"], acc["rejected_rows"],
            acc["rejected_by_reason"]) == (15, 6, 7, 2, {"missing_key": 2})


def test_user_fields_trim_and_map_case_in_ascii(medallion_db):
    rows = [
        {"email": " Ana@Example.com ", "country": "br", "subscription_tier": "Premium",
         "full_name": " Ana Lima "},
        {"email": "bob@example", "country": "USA", "subscription_tier": "", "full_name": ""},
        {"email": "a b@x.com", "country": "b1", "subscription_tier": "gold", "full_name": " \t "},
        {"email": "a@@x.com", "country": "\tus\n", "subscription_tier": " BASIC\v"},
        {"email": "ÄNA@EXAMPLE.COM", "country": "ÄB", "subscription_tier": "PREMİUM"},
        {"email": "", "country": "", "subscription_tier": "STANDARD"},
    ]
    load_bronze(medallion_db, "users", "users.csv",
                [{"user_id": f"u{i}", **row} for i, row in enumerate(rows)])
    build_silver()
    got = {r["user_id"]: r for r in fetch(medallion_db, "select * from silver.users")}
    assert [got[f"u{i}"]["email"] for i in range(6)] == [
        "ana@example.com", None, None, None, "Äna@example.com", None]
    assert [got[f"u{i}"]["country"] for i in range(6)] == ["BR", None, None, "US", None, None]
    assert [got[f"u{i}"]["subscription_tier"] for i in range(6)] == [
        "premium", "unknown", "unknown", "basic", "unknown", "standard"]
    assert [got[f"u{i}"]["full_name"] for i in range(3)] == ["Ana Lima", None, None]



def test_user_key_is_trimmed(medallion_db):
    load_bronze(medallion_db, "users", "users.csv", [
        {"user_id": " u1\t", "updated_at": "2024-01-01T00:00:00Z", "email": "old@x.com"},
        {"user_id": "u1", "updated_at": "2024-02-01T00:00:00Z", "email": "new@x.com"},
    ])
    build_silver()
    assert fetch(medallion_db, "select user_id, email from silver.users") == [
        {"user_id": "u1", "email": "new@x.com"}]
