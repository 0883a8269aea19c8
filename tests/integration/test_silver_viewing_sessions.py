"""sql/silver/viewing_sessions.sql on real PostgreSQL (data-contract.md section 3,
silver.viewing_sessions): rejection reasons and their order, the later row wins (file byte
order, ingestion, row), missing keys never deduplicated, watch_seconds (derivation, 64-bit
integer), device mapping, completion_pct, and the rejected table's rows. Users and content
are owned by test_silver_users.py and test_silver_content.py."""

from __future__ import annotations

import pytest
from tests.support.transform import fetch, load_bronze

from etl.transform import build_silver

T0 = "2024-03-01T20:00:00Z"
T1 = "2024-03-01T21:00:00Z"


def _reference_data(settings):
    load_bronze(settings, "users", "users.csv", [{"user_id": "u1"}, {"user_id": "u2"}])
    load_bronze(settings, "content", "content.json", [
        {"content_id": "c1", "duration_min": 100}, {"content_id": "c2"}])


def _session(session_id, **over):
    row = {"session_id": session_id, "user_id": "u1", "content_id": "c1", "started_at": T0,
           "ended_at": "", "watch_seconds": "600", "device": "tv"}
    row.update(over)
    return row


def _outcomes(settings) -> dict:
    """source_row -> 'silver' or the rejection reason."""
    out = {r["source_row"]: "silver" for r in
           fetch(settings, "select source_row from silver.viewing_sessions")}
    for r in fetch(settings, "select source_row, reason from silver.viewing_sessions_rejected"):
        assert r["source_row"] not in out
        out[r["source_row"]] = r["reason"]
    return out


def test_each_session_rejection_reason(medallion_db):
    _reference_data(medallion_db)
    rows = [
        (_session(""), "missing_key"),
        (_session(" \t"), "missing_key"),
        (_session("a1", started_at="now"), "invalid_timestamp"),
        (_session("a2", started_at=""), "invalid_timestamp"),
        (_session("a3", ended_at="infinity"), "invalid_timestamp"),
        (_session("a4", ended_at="2024-03-01T24:00:00Z"), "invalid_timestamp"),
        (_session("b1", watch_seconds="abc"), "invalid_measure"),
        (_session("b2", watch_seconds="1.5"), "invalid_measure"),
        (_session("b3", watch_seconds="", ended_at=""), "invalid_measure"),
        (_session("b4", watch_seconds="NaN", ended_at=T1), "invalid_measure"),
        (_session("c1", watch_seconds="-1"), "negative_duration"),
        (_session("c2", ended_at="2024-03-01T19:59:59Z"), "negative_duration"),
        (_session("c3", watch_seconds="", ended_at="2024-03-01T19:00:00Z"), "negative_duration"),
        (_session("d1", user_id=""), "orphan_user"),
        (_session("d2", user_id="u9"), "orphan_user"),
        (_session("e1", content_id=""), "orphan_content"),
        (_session("e2", content_id="c9"), "orphan_content"),
        (_session("f1", user_id=" u2 ", content_id="\tc2", watch_seconds="0"), "silver"),
        (_session("f2", ended_at=T0, watch_seconds=""), "silver"),    # zero-length session
    ]
    load_bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv", [r for r, _ in rows])
    build_silver()
    assert _outcomes(medallion_db) == {i: reason for i, (_, reason) in enumerate(rows, 1)}


def test_rejection_reasons_apply_in_the_contract_order(medallion_db):
    _reference_data(medallion_db)
    rows = [
        # every defect at once: an empty key wins
        (_session("", started_at="now", watch_seconds="x", user_id="", content_id=""),
         "missing_key"),
        (_session("o1", started_at="now", watch_seconds="x", user_id="u9", content_id="c9"),
         "invalid_timestamp"),
        (_session("o2", ended_at="epoch", watch_seconds="", user_id="u9"), "invalid_timestamp"),
        (_session("o3", watch_seconds="x", ended_at="2024-03-01T19:00:00Z", user_id="u9"),
         "invalid_measure"),
        (_session("o4", watch_seconds="-5", user_id="u9", content_id="c9"), "negative_duration"),
        (_session("o5", ended_at="2024-03-01T19:00:00Z", user_id="", content_id=""),
         "negative_duration"),
        (_session("o6", user_id="u9", content_id="c9"), "orphan_user"),
        (_session("o7", content_id="c9"), "orphan_content"),
    ]
    load_bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv", [r for r, _ in rows])
    build_silver()
    assert _outcomes(medallion_db) == {i: reason for i, (_, reason) in enumerate(rows, 1)}


def test_rejected_rows_keep_reason_reference_and_raw_record(medallion_db):
    _reference_data(medallion_db)
    load_bronze(medallion_db, "viewing_sessions", "sub/viewing_sessions.csv",
                [_session(" s1 ", started_at=" now ", device=" Smart TV ")])
    build_silver()
    rows = fetch(medallion_db, "select r.*, l.status from silver.viewing_sessions_rejected r "
                               "join ops.ingestion_log l using (ingestion_id)")
    assert len(rows) == 1
    row = rows[0]
    assert (row["session_id"], row["reason"], row["source_file"], row["source_row"],
            row["status"]) == ("s1", "invalid_timestamp", "sub/viewing_sessions.csv", 1, "loaded")
    assert row["raw_record"] == {  # exactly as it arrived, untrimmed
        "session_id": " s1 ", "user_id": "u1", "content_id": "c1", "started_at": " now ",
        "ended_at": "", "watch_seconds": "600", "device": " Smart TV "}


def test_watch_seconds_device_and_completion(medallion_db):
    _reference_data(medallion_db)
    rows = [
        _session("w1", ended_at="2024-03-01T20:30:30.500Z", watch_seconds=""),   # 1830 s
        _session("w2", ended_at="2024-03-01T20:00:00.999999Z", watch_seconds=""),  # 0 s
        _session("w3", ended_at="2024-03-01T22:00:00+01:00", watch_seconds=""),   # 3600 s
        _session("w4", ended_at=T1, watch_seconds="100"),    # given value wins
        _session("w5", watch_seconds="12000"),               # capped at 100 %
        _session("w6", content_id="c2"),                     # no duration: null
        _session("w7", device=" MOBILE "), _session("w8", device="Web"),
        _session("w9", device="tablet"), _session("w10", device="Smart TV"),
        _session("w11", device=""), _session("w12", device="TV\r\n"),
        _session("w13", device="ＴＶ"),
    ]
    load_bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv", rows)
    build_silver()
    got = {r["session_id"]: r for r in fetch(medallion_db, "select * from silver.viewing_sessions")}
    assert [got[f"w{i}"]["watch_seconds"] for i in range(1, 6)] == [1830, 0, 3600, 100, 12000]
    assert got["w1"]["completion_pct"] == 1830 * 100 / 6000
    assert got["w5"]["completion_pct"] == 100
    assert got["w6"]["completion_pct"] is None
    assert [got[f"w{i}"]["device"] for i in range(7, 14)] == [
        "mobile", "web", "tablet", "other", "other", "tv", "other"]


def test_later_session_row_wins_by_file_byte_order_then_ingestion_then_row(medallion_db):
    _reference_data(medallion_db)
    # Byte order (COLLATE "C"): 'B...' < 'b...', although 'B' was ingested later and a
    # linguistic collation would put 'b' first.
    load_bronze(medallion_db, "viewing_sessions", "sessions/viewing_sessions_b.csv", [
        _session("s1", device="tv"), _session("s2", device="tv")])
    load_bronze(medallion_db, "viewing_sessions", "sessions/viewing_sessions_B.csv", [
        _session("s1", device="web"), _session("s2", device="web"), _session("s3", device="web")])
    # The same path twice (bytes changed): the later ingestion is later.
    load_bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv", [
        _session("s3", device="mobile"), _session("s4", device="mobile")])
    load_bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv", [
        _session("s4", device="tablet"), _session("s5", device="mobile"),
        _session("s5", device="tablet")])     # and within a file the later row wins
    build_silver()
    got = {r["session_id"]: (r["device"], r["source_file"]) for r in
           fetch(medallion_db, "select * from silver.viewing_sessions")}
    assert got["s1"] == ("tv", "sessions/viewing_sessions_b.csv")
    assert got["s2"] == ("tv", "sessions/viewing_sessions_b.csv")
    assert got["s3"][0] == "mobile"    # 'viewing_sessions.csv' > 'sessions/...' in byte order
    assert got["s4"][0] == "tablet"
    assert got["s5"][0] == "tablet"


def test_the_survivor_is_validated_not_the_best_row(medallion_db):
    _reference_data(medallion_db)
    load_bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv", [
        _session("s1", started_at="now"), _session("s1"),            # later valid row wins
        _session("s2"), _session("s2", started_at="now"),            # later invalid row wins
    ])
    build_silver()
    assert _outcomes(medallion_db) == {2: "silver", 4: "invalid_timestamp"}
    acc = fetch(medallion_db, "select * from ops.entity_accounting where entity = 'viewing_sessions'")
    assert (acc[0]["bronze_rows"], acc[0]["silver_rows"], acc[0]["superseded_rows"],
            acc[0]["rejected_rows"]) == (4, 1, 2, 1)


def test_missing_keys_are_never_deduplicated(medallion_db):
    _reference_data(medallion_db)
    load_bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv",
                [_session(""), _session(""), _session(" ")])
    build_silver()
    assert fetch(medallion_db, "select count(*) as n from silver.viewing_sessions_rejected "
                               "where reason = 'missing_key'") == [{"n": 3}]


def test_completion_pct_never_overflows_on_extreme_valid_values(medallion_db):
    load_bronze(medallion_db, "users", "users.csv", [{"user_id": "u1"}])
    load_bronze(medallion_db, "content", "content.json", [
        {"content_id": "tiny", "duration_min": "1e-300"},
        {"content_id": "huge", "duration_min": 1.7e308}])
    load_bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv", [
        _session("s1", content_id="tiny", watch_seconds="9223372036854775807"),
        _session("s2", content_id="huge", watch_seconds="9223372036854775807"),
        _session("s3", content_id="huge", watch_seconds="0")])
    build_silver()
    got = {r["session_id"]: r["completion_pct"] for r in
           fetch(medallion_db, "select * from silver.viewing_sessions")}
    assert got["s1"] == 100.0
    assert 0 < got["s2"] < 1e-200 and got["s3"] == 0.0


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
