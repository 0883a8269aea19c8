"""The data generator: deterministic, streaming, contract-conformant, dirty on purpose.

The central test reads the generated files back with a small, independent
reading of the data contract (sections 1 and 3, below) and checks that the
accounting the generator promises (`GenerateReport.expected`, `.dirt`) is
exactly what the contract makes of the files.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import gzip
import inspect
import io
import itertools
import json
import re
from array import array
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from etl import synth
from etl.errors import TerminalError

SMALL = dict(users=400, sessions=12000, contents=150, days=45, seed=11, dirty_rate=0.05)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    report = synth.generate(out, **SMALL)
    return out, report


@pytest.fixture(scope="module")
def reading(small):
    out, _ = small
    return _read_all(out)


# ---------------------------------------------------------------- a reading of the contract

_TS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?"
                 r"(Z|[+-]\d{2}:\d{2})?$")
_INT = re.compile(r"^[+-]?\d+$")
_NUM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WS = " \t\r\n\f\v"


def _trim(v):
    return v.strip(_WS) if isinstance(v, str) else v


def parse_ts(value: str) -> datetime | None:
    """Contract timestamp: ISO 8601 only, valid calendar date, offset within ±23:59."""
    m = _TS.match(_trim(value))
    if not m:
        return None
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    if h > 23 or mi > 59 or s > 59 or not 1 <= mo <= 12:
        return None
    if not 1 <= d <= calendar.monthrange(y, mo)[1]:
        return None
    frac = float(m.group(7)) if m.group(7) else 0.0
    off = m.group(8)
    offset = timedelta(0)
    if off and off != "Z":
        oh, om = int(off[1:3]), int(off[4:6])
        if oh > 23 or om > 59:
            return None
        offset = timedelta(hours=oh, minutes=om) * (1 if off[0] == "+" else -1)
    local = datetime(y, mo, d, h, mi, s, tzinfo=timezone.utc) + timedelta(seconds=frac)
    return local - offset


def parse_date(value: str) -> date | None:
    v = _trim(value)
    m = re.match(r"^(\d{4})[-/](\d{2})[-/](\d{2})$", v)
    if m and (v[4] == v[7]):
        y, mo, d = (int(x) for x in m.groups())
        if 1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]:
            return date(y, mo, d)
        return None
    ts = parse_ts(v)
    return ts.date() if ts else None


def parse_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT.match(_trim(value)):
        n = int(_trim(value))
        return n if -(2 ** 63) <= n < 2 ** 63 else None
    return None


def parse_num(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUM.match(_trim(value)):
        return float(_trim(value))
    return None


def decode(raw: bytes) -> tuple[str, str]:
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252"), "cp1252"


def read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.name.endswith(".gz") else raw


def read_csv(path: Path) -> tuple[list[str], list[list[str]], str]:
    text, encoding = decode(read_bytes(path))
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    header = [h.strip(_WS).lower() for h in rows[0]]
    for r in rows[1:]:
        assert len(r) == len(header), f"{path.name}: row with {len(r)} fields: {r}"
    return header, rows[1:], encoding


def read_json_docs(path: Path) -> list:
    text, _ = decode(read_bytes(path))
    if path.name.endswith((".jsonl", ".jsonl.gz")):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    docs = json.loads(text)
    assert isinstance(docs, list)
    return docs


def _entity(name: str) -> str | None:
    n = name.lower()
    if n.startswith("users") and n.endswith((".csv", ".csv.gz")):
        return "users"
    if n.startswith("viewing_sessions") and n.endswith((".csv", ".csv.gz")):
        return "viewing_sessions"
    if n.startswith("content") and n.endswith((".json", ".jsonl", ".json.gz", ".jsonl.gz")):
        return "content"
    return None


def _latest(rows, key_of, ts_of=None):
    """Section 3 dedup: (survivors by key, superseded count, missing_key rows)."""
    best: dict[str, tuple] = {}
    superseded = missing = 0
    for pos, row in enumerate(rows):
        key = key_of(row)
        if key is None or key == "":
            missing += 1
            continue
        rank = (ts_of(row) or datetime.min.replace(tzinfo=timezone.utc), pos) if ts_of else (pos,)
        if key in best:
            superseded += 1
            if rank >= best[key][0]:
                best[key] = (rank, row)
        else:
            best[key] = (rank, row)
    return {k: v[1] for k, v in best.items()}, superseded, missing


def _read_all(out: Path) -> dict:
    files = sorted((p for p in out.rglob("*") if p.is_file()),
                   key=lambda p: p.relative_to(out).as_posix().encode())
    rows: dict[str, list] = {"users": [], "viewing_sessions": [], "content": []}
    for path in files:
        entity = _entity(path.name)
        if entity == "content":
            rows["content"] += read_json_docs(path)
        elif entity:
            header, data, _ = read_csv(path)
            rows[entity] += [dict(zip(header, r)) for r in data]

    users, u_sup, u_missing = _latest(
        rows["users"], lambda r: _trim(r["user_id"]), lambda r: parse_ts(r["updated_at"]))

    def content_key(doc):
        cid = doc.get("content_id")
        if isinstance(cid, bool) or not isinstance(cid, (str, int)):
            return None
        return _trim(str(cid))

    contents, c_sup, c_missing = _latest(
        rows["content"], content_key,
        lambda d: parse_ts(d["updated_at"]) if isinstance(d.get("updated_at"), str) else None)

    sessions, s_sup, s_missing = _latest(rows["viewing_sessions"], lambda r: _trim(r["session_id"]))
    rejected = Counter({"missing_key": s_missing} if s_missing else {})
    silver_sessions = []
    for r in sessions.values():
        v = {k: _trim(x) for k, x in r.items()}
        start, end = parse_ts(v["started_at"]), parse_ts(v["ended_at"]) if v["ended_at"] else None
        watch = parse_int(v["watch_seconds"]) if v["watch_seconds"] else None
        if start is None or (v["ended_at"] and end is None):
            rejected["invalid_timestamp"] += 1
        elif (v["watch_seconds"] and watch is None) or (not v["watch_seconds"] and not v["ended_at"]):
            rejected["invalid_measure"] += 1
        elif (watch is not None and watch < 0) or (end is not None and end < start):
            rejected["negative_duration"] += 1
        elif v["user_id"] not in users:
            rejected["orphan_user"] += 1
        elif v["content_id"] not in contents:
            rejected["orphan_content"] += 1
        else:
            if watch is None:
                watch = int((end - start).total_seconds())
                v["derived"] = True
            v["watch"] = watch
            v["start"] = start
            v["device_norm"] = v["device"].lower() if v["device"].lower() in synth._DEVICES else "other"
            silver_sessions.append(v)
    return {
        "rows": rows, "users": users, "contents": contents, "sessions": silver_sessions,
        "expected": {
            "users": (len(rows["users"]), len(users), u_sup,
                      {"missing_key": u_missing} if u_missing else {}),
            "content": (len(rows["content"]), len(contents), c_sup,
                        {"missing_key": c_missing} if c_missing else {}),
            "viewing_sessions": (len(rows["viewing_sessions"]), len(silver_sessions), s_sup,
                                 dict(rejected)),
        },
    }


# ---------------------------------------------------------------- determinism and streaming

def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    args = dict(SMALL, sessions=3000)
    a = synth.generate(tmp_path / "a", **args)
    b = synth.generate(tmp_path / "b", **args)
    c = synth.generate(tmp_path / "c", **dict(args, seed=12))
    assert [f.path for f in a.files] == [f.path for f in b.files]
    for f in a.files:
        assert (tmp_path / "a" / f.path).read_bytes() == (tmp_path / "b" / f.path).read_bytes(), f.path
    assert a.expected == b.expected and a.dirt == b.dirt
    differs = [f.path for f in a.files
               if (tmp_path / "a" / f.path).read_bytes() != (tmp_path / "c" / f.path).read_bytes()]
    assert "users.csv" in differs and any(p.startswith("sessions/") for p in differs)


def test_sessions_come_from_a_generator_one_row_at_a_time():
    plan = synth._Plan(50, 10_000_000, 20, 30, 1, 0.05, date(2026, 1, 1), date(2026, 1, 30))
    durations = array("H", [0] + [60] * 20)
    rows = synth.iter_sessions(plan, durations, {})
    assert inspect.isgenerator(rows)
    # Ten million rows asked for; taking five must not build the others.
    first = list(itertools.islice(rows, 5))
    assert len(first) == 5
    assert all(month == "2026-01" and line.count(",") >= 6 for month, line in first)
    assert inspect.isgenerator(synth.iter_users(plan, {}))
    assert inspect.isgenerator(synth.iter_content(plan, {}, array("H", [0] * 21)))


def test_session_files_split_by_month_and_alternate_gzip(small):
    out, report = small
    session_files = [f for f in report.files if f.entity == "viewing_sessions"]
    assert len(session_files) >= 2
    assert [f.gzip for f in session_files] == [i % 2 == 1 for i in range(len(session_files))]
    for f in session_files:
        raw = (out / f.path).read_bytes()
        assert (raw[:2] == b"\x1f\x8b") == f.gzip
        assert re.fullmatch(r"sessions/viewing_sessions_\d{4}-\d{2}_\d{3}\.csv(\.gz)?", f.path)
    # Byte order of paths is time order, so a repeated id is always "later".
    paths = [f.path for f in session_files]
    assert paths == sorted(paths, key=str.encode)


# ---------------------------------------------------------------- files parse per the contract

def test_csv_files_have_the_required_columns(small):
    out, report = small
    for f in report.files:
        if f.entity in ("users", "viewing_sessions"):
            header, rows, encoding = read_csv(out / f.path)
            required = synth.USERS_COLUMNS if f.entity == "users" else synth.SESSIONS_COLUMNS
            assert set(required) <= set(header), f.path
            assert len(rows) == f.rows
            assert encoding == f.encoding


def test_cp1252_file_is_not_utf8_and_holds_accented_names(small):
    out, report = small
    raw = (out / "users_intl_cp1252.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert any(ch in text for ch in "éëçøüöñÅ")
    assert report.file("users_intl_cp1252.csv").encoding == "cp1252"
    # The other files are valid UTF-8, some with non-ASCII text.
    assert (out / "users.csv").read_bytes().decode("utf-8").isascii() is False


def test_updates_file_has_bom_crlf_other_header_case_and_an_extra_column(small):
    out, _ = small
    raw = (out / "users_updates.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == raw.count(b"\n") > 1
    header, _, _ = read_csv(out / "users_updates.csv")
    assert "change_reason" in header
    first_line = raw[3:].split(b"\r\n")[0].decode()
    assert first_line.split(",") != list(synth.USERS_COLUMNS)


def test_users_csv_has_a_blank_line_and_rfc4180_quoting(small):
    out, report = small
    text = (out / "users.csv").read_text(encoding="utf-8")
    assert "\n\n" in text
    assert re.search(r',"[^"]*,[^"]*",|""', text)
    _, rows, _ = read_csv(out / "users.csv")
    assert len(rows) == report.file("users.csv").rows


def test_json_array_and_jsonl_hold_objects(small):
    out, report = small
    text = (out / "content.json").read_text(encoding="utf-8")
    docs = json.loads(text)
    assert isinstance(docs, list) and all(isinstance(d, dict) for d in docs)
    assert len(docs) == report.file("content.json").rows
    lines = (out / "content_updates.jsonl").read_text(encoding="utf-8").splitlines()
    assert "" in lines  # a blank line, skipped by the contract
    objs = [json.loads(line) for line in lines if line.strip()]
    assert all(isinstance(o, dict) for o in objs)
    assert len(objs) == report.file("content_updates.jsonl").rows


def test_readme_is_written_and_is_no_entity(small):
    out, report = small
    assert report.file("README.txt").entity is None
    assert _entity("README.txt") is None and (out / "README.txt").exists()


# ---------------------------------------------------------------- the promised accounting

@pytest.mark.parametrize("entity", ["users", "content", "viewing_sessions"])
def test_expected_accounting_matches_a_reading_of_the_contract(small, reading, entity):
    _, report = small
    exp = report.expected[entity]
    bronze, silver, superseded, rejected = reading["expected"][entity]
    assert (exp.bronze_rows, exp.silver_rows, exp.superseded_rows, exp.rejected) == (
        bronze, silver, superseded, rejected)
    assert exp.bronze_rows == exp.silver_rows + exp.superseded_rows + exp.rejected_rows


def test_every_kind_of_dirt_is_present(small):
    _, report = small
    for entity, kinds in (("users", synth.USER_DIRT + synth.USER_UPDATE_KINDS),
                          ("content", synth.CONTENT_DIRT + synth.CONTENT_UPDATE_KINDS),
                          ("viewing_sessions", synth.SESSION_DIRT)):
        missing = [k for k in kinds if report.dirt[entity].get(k, 0) < 1]
        assert not missing, f"{entity}: no {missing}"
    rejected = report.expected["viewing_sessions"].rejected
    assert set(rejected) == {"missing_key", "invalid_timestamp", "invalid_measure",
                             "negative_duration", "orphan_user", "orphan_content"}
    assert report.dirt["viewing_sessions"]["utc_date_shifted"] >= 1


def test_dirty_values_are_the_ones_the_contract_names(reading):
    sessions = reading["rows"]["viewing_sessions"]
    started = [r["started_at"] for r in sessions]
    assert "now" in started or any(r["ended_at"] == "now" for r in sessions) or \
        any(v in started for v in ("epoch", "infinity", "-infinity", "yesterday"))
    assert any(r["session_id"].strip() == "" for r in sessions)
    assert any(r["watch_seconds"].startswith("-") for r in sessions)
    assert any(re.search(r"[+-]\d{2}:\d{2}$", r["started_at"].strip()) for r in sessions)
    # Some offset timestamp names a local date other than its UTC date.
    assert any(parse_ts(r["started_at"]) and re.search(r"[+-]\d{2}:\d{2}$", r["started_at"])
               and parse_ts(r["started_at"]).date().isoformat() != r["started_at"][:10]
               for r in sessions)
    users = reading["rows"]["users"]
    assert any("-02-30" in r["signup_date"] or "-02-29" in r["signup_date"] for r in users)
    assert any(r["user_id"] != r["user_id"].strip() for r in users)
    docs = reading["rows"]["content"]
    assert any("content_id" not in d for d in docs)
    assert any(isinstance(d.get("duration_min"), str) for d in docs)
    assert any(isinstance(d.get("genres"), str) for d in docs)
    assert any(isinstance(d.get("content_id"), str) and d["content_id"].strip() for d in docs)


def test_field_defects_equal_silver_outcomes(small, reading):
    _, report = small
    u = report.dirt["users"]
    survivors = [{k: _trim(v) for k, v in r.items()} for r in reading["users"].values()]
    assert sum(not _EMAIL.match(r["email"].lower()) for r in survivors) == u["invalid_email"]
    assert sum(not re.fullmatch(r"[A-Z]{2}", r["country"].upper()) for r in survivors) \
        == u["invalid_country"]
    assert sum(parse_date(r["signup_date"]) is None for r in survivors) == u["invalid_signup_date"]
    assert sum(r["subscription_tier"].lower() not in ("free", "basic", "standard", "premium")
               for r in survivors) == u["unknown_tier"]
    assert sum(not (parse_int(r["birth_year"]) and 1900 <= parse_int(r["birth_year"]) <= 2026)
               for r in survivors) == u["invalid_birth_year"]
    s = report.dirt["viewing_sessions"]
    sessions = reading["sessions"]
    assert sum(bool(v.get("derived")) for v in sessions) == s["derived_watch_seconds"]
    assert sum(v["device_norm"] == "other" for v in sessions) == s["device_other"]


def test_sessions_reference_real_users_and_contents(small, reading):
    _, report = small
    user_ids = {f"u{i:07d}" for i in range(1, SMALL["users"] + 1)}
    content_ids = {str(k) for k in range(1, SMALL["contents"] + 1)}
    assert set(reading["users"]) == user_ids
    assert set(reading["contents"]) == content_ids
    for v in reading["sessions"]:
        assert v["user_id"] in user_ids and v["content_id"] in content_ids
    orphan_rows = [r for r in reading["rows"]["viewing_sessions"]
                   if r["user_id"].strip() not in user_ids]
    assert len(orphan_rows) >= report.expected["viewing_sessions"].rejected["orphan_user"]


def test_a_clean_run_has_nothing_to_reject(tmp_path):
    report = synth.generate(tmp_path, **dict(SMALL, sessions=2000, dirty_rate=0.0))
    for exp in report.expected.values():
        assert exp.rejected == {} and exp.superseded_rows == 0
        assert exp.bronze_rows == exp.silver_rows
    assert report.expected["users"].silver_rows == SMALL["users"]


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(TerminalError):
        synth.generate(tmp_path, **dict(SMALL, dirty_rate=1.5))
    with pytest.raises(TerminalError):
        synth.generate(tmp_path, **dict(SMALL, users=0))


# ---------------------------------------------------------------- realistic shapes

def test_evening_outweighs_night_and_weekends_outweigh_weekdays(reading):
    by_hour = Counter(v["start"].hour for v in reading["sessions"])
    evening = sum(by_hour[h] for h in range(18, 23))
    night = sum(by_hour[h] for h in range(2, 7))
    assert evening > 4 * night
    by_day = Counter(v["start"].date() for v in reading["sessions"])
    weekend = [n for d, n in by_day.items() if d.weekday() >= 5]
    weekday = [n for d, n in by_day.items() if d.weekday() < 5]
    assert sum(weekend) / len(weekend) > 1.15 * sum(weekday) / len(weekday)


def test_content_popularity_is_skewed(reading):
    views = Counter(v["content_id"] for v in reading["sessions"])
    counts = sorted(views.values(), reverse=True)
    top = counts[: max(1, SMALL["contents"] // 10)]
    assert sum(top) > 0.4 * sum(counts)
    assert counts[-1] * 20 < counts[0]


def test_devices_mix_and_tv_rises_in_the_evening(reading):
    sessions = reading["sessions"]
    devices = Counter(v["device_norm"] for v in sessions)
    assert all(devices[d] > 0.08 * len(sessions) for d in ("mobile", "tv", "web", "tablet"))
    evening = [v for v in sessions if 18 <= v["start"].hour <= 23]
    morning = [v for v in sessions if 6 <= v["start"].hour <= 9]
    share = lambda rows: sum(v["device_norm"] == "tv" for v in rows) / len(rows)  # noqa: E731
    assert share(evening) > 2 * share(morning)


def test_watch_time_fits_content_duration(reading):
    durations = {k: d.get("duration_min") for k, d in reading["contents"].items()}
    ratios = []
    for v in reading["sessions"]:
        minutes = parse_num(durations[v["content_id"]]) if durations[v["content_id"]] is not None \
            else None
        if minutes and minutes > 0:
            ratios.append(v["watch"] / (minutes * 60))
    ratios.sort()
    assert len(ratios) > 0.9 * len(reading["sessions"])
    assert 0.2 < ratios[len(ratios) // 2] < 0.95  # median completion
    assert ratios[int(len(ratios) * 0.99)] <= 1.1  # nobody watches a film twice over
    completed = sum(r >= 0.9 for r in ratios) / len(ratios)
    assert 0.15 < completed < 0.7


# ---------------------------------------------------------------- CLI

def test_main_writes_to_raw_data_path_by_default(tmp_path, monkeypatch, capsys):
    from etl.settings import reset_settings

    monkeypatch.setenv("RAW_DATA_PATH", str(tmp_path / "raw"))
    reset_settings()
    try:
        args = argparse.Namespace(out=None, users=30, sessions=300, contents=10, days=10,
                                  seed=3, dirty_rate=0.1)
        assert synth.main(args) == 0
    finally:
        monkeypatch.delenv("RAW_DATA_PATH")
        reset_settings()
    assert (tmp_path / "raw" / "users.csv").exists()
    out = capsys.readouterr().out
    assert "viewing_sessions" in out and "expected in silver" in out


def test_main_accepts_a_partial_namespace_and_defaults_match_the_cli(tmp_path, capsys):
    from etl.cli import build_parser

    args = build_parser().parse_args(["generate"])
    for name, default in synth.CLI_DEFAULTS.items():
        assert getattr(args, name) == default, name
    assert synth.main(argparse.Namespace(out=tmp_path, sessions=500, users=40, contents=10)) == 0
    assert (tmp_path / "users.csv").exists()


def test_files_of_an_earlier_run_are_reported(tmp_path):
    synth.generate(tmp_path, **dict(SMALL, sessions=500, days=70))
    report = synth.generate(tmp_path, **dict(SMALL, sessions=500, days=10))
    assert report.other_files and all(p.startswith("sessions/") for p in report.other_files)
    fresh = synth.generate(tmp_path / "fresh", **dict(SMALL, sessions=500, days=10))
    assert fresh.other_files == []


def test_report_serialises_to_json(small):
    _, report = small
    data = json.loads(json.dumps(report.to_dict()))
    assert data["expected"]["viewing_sessions"]["rejected_rows"] == \
        report.expected["viewing_sessions"].rejected_rows
    assert {f["path"] for f in data["files"]} == {f.path for f in report.files}


def test_a_one_month_window_still_writes_a_plain_and_a_gzipped_file(tmp_path):
    report = synth.generate(tmp_path, **dict(SMALL, sessions=1001, days=10))
    sessions = [f for f in report.files if f.entity == "viewing_sessions"]
    assert [f.gzip for f in sessions] == [False, True]
    assert sum(f.rows for f in sessions) == 1001
