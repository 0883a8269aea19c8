"""The header row of a raw CSV file: where it ends, and how its names map onto bronze.

Header names are matched case-insensitively after trimming; required columns may come in
any order; any other column is an extra, kept in bronze's `extra` jsonb. A required
column named twice (`user_id` twice, or `email` and ` EMAIL `) rejects the file: which
of the two is the value is anybody's guess. Extra columns named alike are all kept,
the later ones under a numbered key, since an extra column never fails the load.
"""

from __future__ import annotations

import csv as stdcsv
import io
from dataclasses import dataclass, field
from typing import BinaryIO

from etl.ingest.source import BOM, CHUNK, chunks

REQUIRED: dict[str, tuple[str, ...]] = {
    "users": ("user_id", "email", "full_name", "country", "signup_date", "subscription_tier",
              "birth_year", "updated_at"),
    "viewing_sessions": ("session_id", "user_id", "content_id", "started_at", "ended_at",
                         "watch_seconds", "device"),
}
_MAX_HEADER = 16 * CHUNK


class CsvFormatError(ValueError):
    """The file cannot be read as this entity's CSV; the message says where and why."""


@dataclass
class Layout:
    """How the header's columns map onto the bronze table."""

    names: list[str]  # header names as written
    targets: list[str]  # per position: bronze column, or the key in `extra`
    extra_positions: list[int] = field(default_factory=list)
    header_lines: int = 1  # physical lines up to and including the header

    @property
    def has_extra(self) -> bool:
        return bool(self.extra_positions)


def _quote_parity_end(buf: bytes, start: int) -> int:
    """Index of the newline ending the record that starts at `start`, or -1 if not in buf."""
    in_quote = False
    pos = start
    while True:
        nl = buf.find(b"\n", pos)
        if nl < 0:
            return -1
        in_quote ^= buf.count(b'"', pos, nl) % 2 == 1
        if not in_quote:
            return nl
        pos = nl + 1


def read_header(stream: BinaryIO, encoding: str, entity: str) -> tuple[Layout, bytes]:
    """Read the header record; returns its layout and the bytes after it (starting at its newline).

    Raises CsvFormatError when there is no header or a required column is missing.
    """
    buf = b""
    start = 0
    skipped_lines = 0
    first = True
    for block in chunks(stream):
        buf += block
        if first and encoding == "utf-8" and buf.startswith(BOM):
            buf = buf[len(BOM):]
        first = False
        # Leading blank lines are not the header.
        while True:
            nl = buf.find(b"\n", start)
            if nl < 0 or buf[start:nl].strip(b" \t\r"):
                break
            start = nl + 1
            skipped_lines += 1
        end = _quote_parity_end(buf, start)
        if end >= 0:
            return _layout(buf[start:end], encoding, entity, skipped_lines), buf[end:]
        if len(buf) > _MAX_HEADER:
            raise CsvFormatError("line 1: no end of the header row in the first 16 MiB "
                                 "(an unterminated quote?); expected one header line")
    if first and encoding == "utf-8" and buf.startswith(BOM):
        buf = buf[len(BOM):]
    if not buf[start:].strip(b" \t\r\n"):
        raise CsvFormatError("no header row: the file holds only blank lines; expected a header "
                             f"with {', '.join(REQUIRED[entity])}")
    return _layout(buf[start:], encoding, entity, skipped_lines), b""


def _layout(raw_header: bytes, encoding: str, entity: str, skipped_lines: int) -> Layout:
    text = raw_header.decode(encoding)
    rows = list(stdcsv.reader(io.StringIO(text, newline="")))
    names = rows[0] if rows else []
    if len(rows) > 1:
        names = [n for row in rows for n in row]
    required = REQUIRED[entity]
    _refuse_duplicates(names, required, skipped_lines + 1)
    targets: list[str] = []
    extra: list[int] = []
    used: set[str] = set()
    for i, name in enumerate(names):
        key = name.strip().lower()
        if key in required and key not in used:
            targets.append(key)
            used.add(key)
            continue
        label = name.strip() or f"column_{i + 1}"
        while label in used or label in required:
            label = f"{label}_{i + 1}"
        used.add(label)
        targets.append(label)
        extra.append(i)
    missing = [c for c in required if c not in used]
    header_line = skipped_lines + 1
    if missing:
        found = ", ".join(repr(n) for n in names[:20]) or "nothing"
        raise CsvFormatError(
            f"line {header_line}: header is missing required column(s) {', '.join(missing)} "
            f"(found {found}); a {entity} file needs {', '.join(required)}")
    return Layout(names, targets, extra, header_line + text.count("\n"))


def _refuse_duplicates(names: list[str], required: tuple[str, ...], line: int) -> None:
    """CsvFormatError naming every required column the header holds more than once."""
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        key = name.strip().lower()
        if key in required:
            seen.setdefault(key, []).append(i)
    twice = {key: places for key, places in seen.items() if len(places) > 1}
    if twice:
        listed = "; ".join(
            f"{key} as " + " and ".join(f"{names[i]!r} (column {i + 1})" for i in places)
            for key, places in twice.items())
        raise CsvFormatError(f"line {line}: header names a required column more than once ({listed}); "
                             "names match case-insensitively after trimming: keep one of each")
