"""sql/silver/content.sql on real PostgreSQL (data-contract.md section 3, silver.content,
content_genres, content_cast): the content key (a JSON string or integer, as text), the
latest version by updated_at, numbers and text fields, genres and cast."""

from __future__ import annotations

from datetime import datetime, timezone

from tests.support.transform import fetch, load_bronze

from etl.transform import build_silver

YEAR = datetime.now(timezone.utc).year


def test_content_latest_by_updated_at_then_later_row(medallion_db):
    load_bronze(medallion_db, "content", "content.json", [
        {"content_id": "a", "title": "newest", "updated_at": "2024-03-01T00:00:00Z"},
        {"content_id": "a", "title": "older", "updated_at": "2024-02-01T00:00:00Z"},
        {"content_id": "b", "title": "first", "updated_at": "2024-01-01T00:00:00Z"},
        {"content_id": "b", "title": "tie, later", "updated_at": "2024-01-01 00:00:00"},
        {"content_id": "c", "title": "valid", "updated_at": "2024-01-01T00:00:00Z"},
        {"content_id": "c", "title": "invalid", "updated_at": "2024-01-01T24:00:00Z"},
        {"content_id": "d", "title": "valid", "updated_at": "2024-01-01T00:00:00Z"},
        {"content_id": "d", "title": "not a string", "updated_at": 1704067200},
        {"content_id": "e", "title": "none", "genres": ["old"]},
        {"content_id": "e", "title": "none, later", "genres": ["new", "newer"]},
    ])
    build_silver()
    got = {r["content_id"]: r["title"] for r in fetch(medallion_db, "select * from silver.content")}
    assert got == {"a": "newest", "b": "tie, later", "c": "valid", "d": "valid", "e": "none, later"}
    genres = fetch(medallion_db, "select genre, ordinal from silver.content_genres "
                                 "where content_id = 'e' order by ordinal")
    assert genres == [{"genre": "new", "ordinal": 1}, {"genre": "newer", "ordinal": 2}]


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
