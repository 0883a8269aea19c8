"""The CSV byte pass (offline): header mapping, blank lines, CRLF, quotes across block boundaries."""

from __future__ import annotations

import csv
import io
import random

import pytest

from etl.ingest.csv import CsvFormatError, csv_text, data_records, numbered, read_header

SESSIONS = "session_id,user_id,content_id,started_at,ended_at,watch_seconds,device"


def split(data: bytes, sizes: list[int]) -> list[bytes]:
    out, i, k = [], 0, 0
    while i < len(data):
        n = sizes[k % len(sizes)]
        out.append(data[i:i + n])
        i, k = i + n, k + 1
    return out


def run_pass(data: bytes, entity="viewing_sessions", encoding="utf-8", sizes=(7, 1, 3, 64)):
    stream = io.BytesIO(data)
    layout, pending = read_header(stream, encoding, entity)
    rest = stream.read()
    return layout, b"".join(data_records(split(rest, list(sizes)), pending))


def test_header_maps_case_insensitively_after_trimming_and_keeps_extras():
    layout, _ = run_pass(b'\xef\xbb\xbf Device ,WATCH_SECONDS,ended_at,"Started_At",content_id,'
                         b'USER_ID,session_id,Note,note\r\n')
    assert layout.targets == ["device", "watch_seconds", "ended_at", "started_at", "content_id",
                              "user_id", "session_id", "Note", "note"]
    assert layout.extra_positions == [7, 8]


@pytest.mark.parametrize("header, named", [
    (f"{SESSIONS},device", "device as 'device' (column 7) and 'device' (column 8)"),
    (f"{SESSIONS}, DEVICE ", "device as 'device' (column 7) and ' DEVICE ' (column 8)"),
    (f"Session_ID,{SESSIONS}", "session_id as 'Session_ID' (column 1) and 'session_id' (column 2)"),
])
def test_a_required_column_named_twice_rejects_the_file_naming_both(header, named):
    # Which of the two is the value would be a guess (issue 12: duplicated header names).
    with pytest.raises(CsvFormatError, match="header names a required column more than once") as err:
        run_pass(f"{header}\n".encode())
    assert named in str(err.value)


def test_extra_columns_named_alike_are_all_kept_under_distinct_keys():
    layout, _ = run_pass(f"{SESSIONS},note, note ,NOTE\n".encode())
    assert layout.targets[7:] == ["note", "note_9", "NOTE"] and layout.extra_positions == [7, 8, 9]


@pytest.mark.parametrize("data, message", [
    (b"", "no header row"),
    (b"\n\r\n  \n", "no header row"),
    (b"session_id,user_id\n1,2\n", "line 1: header is missing required column(s) content_id, started_at"),
    (b"\n\nsession_id\n", "line 3: header is missing required column(s)"),
])
def test_header_errors_say_where_and_what(data, message):
    with pytest.raises(CsvFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_pass(data)


def test_blank_lines_crlf_and_bom_are_removed_outside_quotes():
    data = (b"\xef\xbb\xbf" + SESSIONS.encode() + b"\r\n\r\n \t\r\n"
            b'a,b,c,d,e,f,g\r\n\r\n"x\r\n\r\ny",b,c,d,e,f,"g\n\n"\r\n\r\n  \r\nlast,b,c,d,e,f,g\r\n\r\n  ')
    _, out = run_pass(data)
    assert out == b'a,b,c,d,e,f,g\n"x\r\n\r\ny",b,c,d,e,f,"g\n\n"\nlast,b,c,d,e,f,g'


def test_header_only_gives_no_records():
    assert run_pass(SESSIONS.encode())[1] == b""
    assert run_pass(SESSIONS.encode() + b"\r\n\r\n")[1] == b""


def _random_field(rng: random.Random) -> str:
    alphabet = ["a", "b", " ", ",", '"', "\n", "\r\n", "é", "\t", "x y", "%", "%d"]  # no bare CR: ambiguous
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))


@pytest.mark.parametrize("seed", range(40))
def test_records_survive_any_block_split(seed):
    """Whatever the block boundaries, PostgreSQL receives exactly the data rows Python's csv reads."""
    rng = random.Random(seed)
    eol = rng.choice(["\n", "\r\n"])
    rows = [[_random_field(rng) for _ in range(7)] for _ in range(rng.randint(0, 30))]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=eol)
    writer.writerow(SESSIONS.split(","))
    for row in rows:
        if rng.random() < 0.3:
            buf.write(rng.choice(["", " ", "\t "]) + eol)  # a blank line
        writer.writerow(row)
    if rng.random() < 0.5:
        buf.write(eol)
    data = buf.getvalue().encode()
    sizes = [rng.randint(1, 40) for _ in range(5)]
    _, out = run_pass(data, sizes=sizes)
    parsed = list(csv.reader(io.StringIO(out.decode(), newline="")))
    assert parsed == rows
    assert out.count(b"\n") - sum(f.count("\n") for r in rows for f in r) == max(len(rows) - 1, 0)


@pytest.mark.parametrize("seed", range(40))
def test_numbered_records_carry_metadata_and_row_number_under_any_split(seed):
    """What PostgreSQL receives: ingestion_id, source_file, source_row, then the row as written."""
    rng = random.Random(1000 + seed)
    rows = [[_random_field(rng) for _ in range(7)] for _ in range(rng.randint(0, 30))]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=rng.choice(["\n", "\r\n"]))
    writer.writerow(SESSIONS.split(","))
    for row in rows:
        if rng.random() < 0.3:
            buf.write("\n")
        writer.writerow(row)
    stream = io.BytesIO(buf.getvalue().encode())
    _, pending = read_header(stream, "utf-8", "viewing_sessions")
    blocks = split(stream.read(), [rng.randint(1, 40) for _ in range(5)])
    meta = b"42," + csv_text('dir/a "b", 100%d.csv', "utf-8") + b","
    out = b"".join(numbered(data_records(blocks, pending, keep_lead=True), meta))
    parsed = list(csv.reader(io.StringIO(out.decode(), newline="")))
    assert parsed == [["42", 'dir/a "b", 100%d.csv', str(i), *row] for i, row in enumerate(rows, 1)]
