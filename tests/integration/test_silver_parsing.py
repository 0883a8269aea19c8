"""Parse rules of data-contract.md section 3, through the silver models on real PostgreSQL:
timestamps, dates, integers, numbers, trimming, ASCII case mapping, text fields."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
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


# (duration_min JSON value, parsed number or None); numbers must be > 0
DURATIONS = [
    (100, 100.0), ("50", 50.0), (" 90 ", 90.0), ("1.5e2", 150.0), ("1E2", 100.0), (12.5, 12.5),
    ("+7", 7.0), ("2.5E-1", 0.25), (-5, None), ("-5", None), (0, None), ("0", None),
    ("NaN", None), ("nan", None), ("Infinity", None), ("-Infinity", None), ("1e400", None),
    (".5", None), ("5.", None), ("0x10", None), ("1,5", None), ("", None), (True, None),
    ([100], None), ({"v": 1}, None), (None, None),
]


def test_content_numbers_and_integers(medallion_db):
    docs = [{"content_id": f"d{i}", "duration_min": value} for i, (value, _) in enumerate(DURATIONS)]
    ratings = [  # (ratings object, imdb_rating, votes)
        ({"imdb": 7.4, "votes": 1200}, 7.4, 1200),
        ({"imdb": "10", "votes": "1200"}, 10.0, 1200),
        ({"imdb": "1e1", "votes": "+0"}, 10.0, 0),
        ({"imdb": 10.5, "votes": 1200.5}, None, None),
        ({"imdb": -0.1, "votes": -1}, None, None),
        ({"imdb": "NaN", "votes": 12.0}, None, None),      # a JSON number with a fraction
        ({"imdb": 0, "votes": "9223372036854775807"}, 0.0, 9223372036854775807),
        ({"imdb": "x", "votes": "9223372036854775808"}, None, None),   # 64-bit overflow
        ({"imdb": None, "votes": "1e3"}, None, None),
        ("7.4", None, None),                                # ratings not an object
    ]
    docs += [{"content_id": f"r{i}", "ratings": value} for i, (value, _, _) in enumerate(ratings)]
    years = [  # (release object, release_year)
        ({"year": 2019}, 2019), ({"year": "2019"}, 2019), ({"year": " 1870 "}, 1870),
        ({"year": 1869}, None), ({"year": YEAR + 1}, YEAR + 1), ({"year": YEAR + 2}, None),
        ({"year": 2019.5}, None), ({"year": "2019.0"}, None), ("2019", None), ({}, None),
    ]
    docs += [{"content_id": f"y{i}", "release": value} for i, (value, _) in enumerate(years)]
    load_bronze(medallion_db, "content", "content.json", docs)
    build_silver()
    got = {r["content_id"]: r for r in fetch(medallion_db, "select * from silver.content")}
    for i, (value, expected) in enumerate(DURATIONS):
        assert got[f"d{i}"]["duration_min"] == expected, value
    for i, (value, imdb, votes) in enumerate(ratings):
        assert (got[f"r{i}"]["imdb_rating"], got[f"r{i}"]["votes"]) == (imdb, votes), value
    for i, (value, expected) in enumerate(years):
        assert got[f"y{i}"]["release_year"] == expected, value


def test_content_text_fields_and_type(medallion_db):
    docs = [
        {"content_id": "a", "title": " Night Train ", "content_type": "Movie",
         "maturity_rating": "\tPG-13\n"},
        {"content_id": "b", "title": "", "content_type": " SERIES ", "maturity_rating": ""},
        {"content_id": "c", "title": 123, "content_type": "podcast", "maturity_rating": 18},
        {"content_id": "d", "title": None, "content_type": 5},
        {"content_id": "e", "content_type": "DOCUMENTARY"},
        {"content_id": "f", "title": ["x"], "content_type": "ＭＯＶＩＥ"},
        {"content_id": "g", "content_type": "Short"},
        {"content_id": "h", "content_type": "MOVİE"},                 # not ASCII: no mapping
    ]
    load_bronze(medallion_db, "content", "content.json", docs)
    build_silver()
    got = {r["content_id"]: r for r in fetch(medallion_db, "select * from silver.content")}
    assert [got[k]["title"] for k in "abcdef"] == ["Night Train", None, None, None, None, None]
    assert [got[k]["content_type"] for k in "abcdefgh"] == [
        "movie", "series", "unknown", "unknown", "documentary", "unknown", "short", "unknown"]
    assert [got[k]["maturity_rating"] for k in "abcd"] == ["PG-13", None, None, None]


def test_content_id_is_a_string_or_an_integer_as_text(medallion_db):
    docs = [
        {"content_id": 10},                 # '10'
        {"content_id": "11"},
        {"content_id": " 12\t"},            # trimmed
        {"content_id": -3},                 # a JSON integer, sign kept
        {"content_id": ""},                 # missing_key from here on
        {"content_id": "  "},
        {"content_id": 10.5},
        {"content_id": 10.0},               # a JSON number with a fraction is no integer
        {"content_id": True},
        {"content_id": None},
        {"content_id": [1]},
        {"content_id": {"id": 1}},
        {"content_id": 99999999999999999999},   # beyond 64 bits
        {"title": "no id"},
    ]
    load_bronze(medallion_db, "content", "content.json", docs)
    build_silver()
    ids = [r["content_id"] for r in fetch(medallion_db,
                                          "select content_id from silver.content order by 1")]
    assert ids == ["-3", "10", "11", "12"]
    rejected = fetch(medallion_db, "select reason, source_row, raw_record from silver.content_rejected "
                                   "order by source_row")
    assert [r["source_row"] for r in rejected] == list(range(5, 15))
    assert {r["reason"] for r in rejected} == {"missing_key"}
    assert rejected[-1]["raw_record"] == {"title": "no id"}


def test_string_and_integer_ids_are_the_same_key(medallion_db):
    load_bronze(medallion_db, "content", "content.json", [
        {"content_id": "10", "title": "newer", "updated_at": "2024-02-01T00:00:00Z"},
        {"content_id": 10, "title": "older", "updated_at": "2024-01-01T00:00:00Z"},
    ])
    build_silver()
    assert fetch(medallion_db, "select content_id, title from silver.content") == [
        {"content_id": "10", "title": "newer"}]


def test_genres_are_cleaned_deduplicated_and_densely_numbered(medallion_db):
    load_bronze(medallion_db, "content", "content.json", [
        {"content_id": "a", "genres": ["Drama", " thriller ", "drama"]},
        {"content_id": "b", "genres": ["", 5, None, "Action", {"x": 1}, "ACTION", " comedy\t",
                                       ["nested"], "AÇÃO"]},
        {"content_id": "c", "genres": "Nature"},
        {"content_id": "d", "genres": 5},
        {"content_id": "e", "genres": " "},
        {"content_id": "f"},
        {"content_id": "g", "genres": []},
        {"content_id": "h", "genres": {"name": "Drama"}},
    ])
    build_silver()
    rows = fetch(medallion_db, "select content_id, genre, ordinal from silver.content_genres "
                               "order by content_id, ordinal")
    assert [(r["content_id"], r["genre"], r["ordinal"]) for r in rows] == [
        ("a", "drama", 1), ("a", "thriller", 2),
        ("b", "action", 1), ("b", "comedy", 2), ("b", "aÇÃo", 3),
        ("c", "nature", 1),
    ]


def test_cast_keeps_object_elements_densely_numbered(medallion_db):
    load_bronze(medallion_db, "content", "content.json", [
        {"content_id": "a", "cast": [{"name": "A", "role": "lead"}, "x", 5, {"name": " B "},
                                     None, {}, {"name": 7, "role": ""}]},
        {"content_id": "b", "cast": {"name": "solo"}},
        {"content_id": "c", "cast": "A"},
    ])
    build_silver()
    rows = fetch(medallion_db, "select content_id, ordinal, name, role from silver.content_cast "
                               "order by content_id, ordinal")
    assert [(r["content_id"], r["ordinal"], r["name"], r["role"]) for r in rows] == [
        ("a", 1, "A", "lead"), ("a", 2, "B", None), ("a", 3, None, None), ("a", 4, None, None)]


@pytest.mark.parametrize("value", ["9223372036854775807", "-1", "9223372036854775808", "1.5",
                                   "1e3", "007"])
def test_watch_seconds_is_a_64_bit_integer(medallion_db, value):
    load_bronze(medallion_db, "users", "users.csv", [{"user_id": "u1"}])
    load_bronze(medallion_db, "content", "content.json", [{"content_id": "c1", "duration_min": 10}])
    load_bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv", [
        {"session_id": "s1", "user_id": "u1", "content_id": "c1",
         "started_at": "2024-01-01T00:00:00Z", "watch_seconds": value, "device": "tv"}])
    build_silver()
    silver = fetch(medallion_db, "select watch_seconds, completion_pct from silver.viewing_sessions")
    rejected = fetch(medallion_db, "select reason from silver.viewing_sessions_rejected")
    expected = {"9223372036854775807": ("silver", 9223372036854775807),
                "-1": ("negative_duration", None),
                "9223372036854775808": ("invalid_measure", None),
                "1.5": ("invalid_measure", None),
                "1e3": ("invalid_measure", None),
                "007": ("silver", 7)}[value]
    if expected[0] == "silver":
        assert silver[0]["watch_seconds"] == expected[1] and not rejected
        assert 0 <= silver[0]["completion_pct"] <= 100
    else:
        assert not silver and rejected == [{"reason": expected[0]}]


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
