"""sql/schema/parsing.sql, the value grammar of data-contract.md section 3, through the silver
models on real PostgreSQL: timestamps (ASCII whitespace trimmed, no offset means UTC, the
session time zone changes nothing), dates and integers. The field rules built on them
are owned by the model files: test_silver_users.py, test_silver_content.py and
test_silver_viewing_sessions.py."""

from __future__ import annotations

from datetime import date, datetime, timezone

from tests.support.transform import fetch, load_bronze

from etl import db
from etl.transform import build_silver

UTC = timezone.utc
YEAR = datetime.now(UTC).year


def _ts(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# (raw updated_at, parsed UTC timestamp or None)
TIMESTAMPS = [
    ("2024-03-01T20:00:00Z", _ts(2024, 3, 1, 20)),
    ("2024-03-01 20:00:00", _ts(2024, 3, 1, 20)),                      # no offset means UTC
    ("2024-03-01T20:00:00+00:00", _ts(2024, 3, 1, 20)),
    ("2024-03-02 23:30:00-02:00", _ts(2024, 3, 3, 1, 30)),             # offset moves the UTC date
    ("2024-03-01T00:30:00+01:00", _ts(2024, 2, 29, 23, 30)),           # ... back onto a leap day
    ("2024-01-01T00:00:00+23:59", _ts(2023, 12, 31, 0, 1)),
    ("2024-01-01T00:00:00-23:59", _ts(2024, 1, 1, 23, 59)),
    ("2024-02-29T12:00:00Z", _ts(2024, 2, 29, 12)),
    ("2000-02-29T00:00:00Z", _ts(2000, 2, 29)),
    ("2024-01-01T23:59:59.999999Z", _ts(2024, 1, 1, 23, 59, 59, 999999)),
    ("2024-01-01T00:00:00.5", _ts(2024, 1, 1, 0, 0, 0, 500000)),
    (" \t\r\n\f\v2024-01-01T00:00:00Z \t\r\n\f\v", _ts(2024, 1, 1)),  # ASCII whitespace trimmed
    ("2023-02-29T12:00:00Z", None),                                    # not a leap year
    ("1900-02-29T00:00:00Z", None),
    ("2024-04-31T00:00:00Z", None),
    ("2024-13-01T00:00:00Z", None),
    ("2024-00-10T00:00:00Z", None),
    ("0000-01-01T00:00:00Z", None),
    ("2024-01-01T24:00:00Z", None),
    ("2024-01-01T24:00:00", None),
    ("2024-01-01T23:60:00Z", None),
    ("2024-01-01T23:59:60Z", None),                                    # no leap seconds
    ("2024-01-01T00:00:00.1234567Z", None),                            # 7 fraction digits
    ("2024-01-01T00:00:00.Z", None),
    ("2024-01-01T00:00:00+24:00", None),
    ("2024-01-01T00:00:00+00:60", None),
    ("2024-01-01T00:00:00+0200", None),
    ("2024-01-01T00:00:00+02", None),
    ("2024-01-01T00:00:00 Z", None),
    ("2024-01-01T00:00:00 UTC", None),
    ("2024-01-01t00:00:00z", None),
    ("2024-01-01T00:00", None),
    ("2024-01-01", None),                                              # a date is not a timestamp
    ("2024-1-01T00:00:00Z", None),
    ("24-01-01T00:00:00Z", None),
    ("2024/01/01 00:00:00", None),
    ("２０２４-01-01T00:00:00Z", None),                                # non-ASCII digits
    ("now", None), ("today", None), ("tomorrow", None), ("yesterday", None),
    ("epoch", None), ("infinity", None), ("-infinity", None), ("allballs", None),
    ("J2460000", None), ("1709323200", None), ("", None), ("   ", None),
]

# (raw signup_date, parsed date or None)
DATES = [
    ("2024-01-05", date(2024, 1, 5)),
    ("2024/02/29", date(2024, 2, 29)),
    ("\t2024/01/05\n", date(2024, 1, 5)),
    ("2024-03-02 23:30:00-02:00", date(2024, 3, 3)),                  # a timestamp's UTC date
    ("2024-03-01T00:30:00+01:00", date(2024, 2, 29)),
    ("2024-01-01T00:00:00Z", date(2024, 1, 1)),
    ("2024/02/30", None), ("2023/02/29", None), ("2024-02-30", None), ("2024-04-31", None),
    ("2024-1-5", None), ("2024/1/05", None), ("2024-01/05", None), ("20240105", None),
    ("05/01/2024", None), ("2024-01-05T25:00:00Z", None), ("2024-01-01T00:00:60Z", None),
    ("now", None), ("today", None), ("epoch", None), ("infinity", None), ("", None),
]

# (raw birth_year, parsed integer or None) - integers in 1900..current year
BIRTH_YEARS = [
    ("1990", 1990), ("+1990", 1990), ("001990", 1990), (" 1990 ", 1990), ("1900", 1900),
    (str(YEAR), YEAR), (str(YEAR + 1), None), ("1899", None), ("1850", None),
    ("1990.0", None), ("1.99e3", None), ("19 90", None), ("1990a", None), ("0x7C6", None),
    ("99999999999999999999", None), ("-9223372036854775809", None), ("", None), ("abc", None),
]


def _users(rows):
    return [{"user_id": f"u{i}", "subscription_tier": "free", **row} for i, row in enumerate(rows)]


def test_timestamps_follow_the_contract_grammar_only(medallion_db):
    load_bronze(medallion_db, "users", "users.csv",
                _users({"updated_at": raw} for raw, _ in TIMESTAMPS))
    build_silver()
    got = {r["user_id"]: r["updated_at"] for r in fetch(medallion_db, "select * from silver.users")}
    for i, (raw, expected) in enumerate(TIMESTAMPS):
        assert got[f"u{i}"] == expected, raw


def test_dates_accept_two_shapes_and_timestamps(medallion_db):
    load_bronze(medallion_db, "users", "users.csv",
                _users({"signup_date": raw} for raw, _ in DATES))
    build_silver()
    got = {r["user_id"]: r["signup_date"] for r in fetch(medallion_db, "select * from silver.users")}
    for i, (raw, expected) in enumerate(DATES):
        assert got[f"u{i}"] == expected, raw


def test_birth_year_is_an_integer_in_range(medallion_db):
    load_bronze(medallion_db, "users", "users.csv",
                _users({"birth_year": raw} for raw, _ in BIRTH_YEARS))
    build_silver()
    got = {r["user_id"]: r["birth_year"] for r in fetch(medallion_db, "select * from silver.users")}
    for i, (raw, expected) in enumerate(BIRTH_YEARS):
        assert got[f"u{i}"] == expected, raw


def test_results_do_not_depend_on_session_timezone_for_parsing(medallion_db):
    with db.connect(medallion_db) as conn:
        conn.execute("set timezone = 'America/New_York'")
        row = conn.execute(
            "select silver.parse_timestamp('2024-03-02 23:30:00-02:00') = "
            "'2024-03-03 01:30:00+00'::timestamptz, "
            "silver.parse_date('2024-03-02 23:30:00-02:00'), "
            "silver.parse_timestamp('2024-03-10 02:30:00')::text").fetchone()
    # 02:30 on 10 March does not exist in New York; in UTC it does, and UTC is what counts.
    assert row[0] is True and row[1] == date(2024, 3, 3)
    assert row[2].startswith("2024-03-09 21:30:00")
