"""CSV files into bronze with PostgreSQL COPY: PostgreSQL parses, Python only streams bytes.

The Python side is one cheap pass over 1 MiB blocks: it strips a UTF-8 BOM and
the header record, turns CRLF into LF and drops blank lines outside quoted
fields (quote parity is all it tracks, as PostgreSQL's CSV reader does), so
that every record PostgreSQL receives is a data row and its sequence number is
`source_row`. Metadata columns come from column defaults (migration 0011).
When PostgreSQL refuses a row, a slow diagnostic pass with Python's csv module
finds the line to name in the error.
"""

from __future__ import annotations

import csv as stdcsv
import io
import json as stdjson
import logging
import re
import sys
from dataclasses import dataclass, field
from typing import BinaryIO, Iterable, Iterator

import psycopg
from psycopg import sql

from etl.ingest.source import BOM, CHUNK, chunks

log = logging.getLogger(__name__)

REQUIRED: dict[str, tuple[str, ...]] = {
    "users": ("user_id", "email", "full_name", "country", "signup_date", "subscription_tier",
              "birth_year", "updated_at"),
    "viewing_sessions": ("session_id", "user_id", "content_id", "started_at", "ended_at",
                         "watch_seconds", "device"),
}
PG_ENCODING = {"utf-8": "UTF8", "cp1252": "WIN1252"}
_MAX_HEADER = 16 * CHUNK
_MAX_STAGED_COLUMNS = 1000  # staging table columns; PostgreSQL stops at 1,600


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


# ------------------------------------------------------------------ the byte pass

_BLANK_INNER = re.compile(rb"\n[ \t\r]*(?=\n)")
_BLANK_LAST = re.compile(rb"\n[ \t\r]*(?=\n|\Z)")


def _clean_outside(part: bytes, last: bool) -> bytes:
    """CRLF to LF and no blank lines, in text outside quotes; `last` when a newline or EOF follows."""
    if b"\r" in part:
        part = part.replace(b"\r\n", b"\n")
        if last and part.endswith(b"\r"):
            part = part[:-1]
    return (_BLANK_LAST if last else _BLANK_INNER).sub(b"", part)


def _clean_piece(piece: bytes, in_quote: bool) -> tuple[bytes, bool]:
    """Clean one piece (it starts at a newline and ends before one); returns it and the new state."""
    quotes = piece.count(b'"')
    if not quotes:
        return (piece if in_quote else _clean_outside(piece, True)), in_quote
    after = in_quote ^ (quotes % 2 == 1)
    if b"\r" not in piece and not _BLANK_LAST.search(piece):
        return piece, after  # the common case: nothing to change
    parts = piece.split(b'"')
    last = len(parts) - 1
    for i in range(1 if in_quote else 0, len(parts), 2):
        parts[i] = _clean_outside(parts[i], i == last)
    return b'"'.join(parts), after


def data_records(blocks: Iterable[bytes], pending: bytes, keep_lead: bool = False) -> Iterator[bytes]:
    """The data rows as LF-separated CSV records, header and blank lines gone.

    `pending` is what followed the header (it starts with the header's newline).
    With `keep_lead`, every record, the first included, is introduced by a newline.
    """
    in_quote = False
    lead = not keep_lead  # the first record's leading newline is the header's: drop it
    for block in blocks:
        buf = pending + block
        cut = buf.rfind(b"\n")
        if cut <= 0:
            pending = buf
            continue
        out, in_quote = _clean_piece(buf[:cut], in_quote)
        pending = buf[cut:]
        if out and lead:
            out, lead = out[1:], False
        if out:
            yield out
    if pending:
        out, in_quote = _clean_piece(pending, in_quote)
        if out and lead:
            out = out[1:]
        if out:
            yield out


def _number_part(part: bytes, prefix: bytes, n: int) -> tuple[bytes, int]:
    """Put prefix + number in front of every record a newline (outside quotes) introduces.

    Built with C-level joins and slices (no Python loop per row): the numbers come
    from one `str.join` over `range`, split on NUL, which no file name contains.
    """
    if b"\n" not in part:
        return part, n
    lines = part.split(b"\n")
    k = len(lines) - 1
    head = "\n" + prefix.decode("latin-1")
    numbers = (",\x00" + head).join(map(str, range(n + 1, n + k + 1)))
    heads = (head + numbers + ",").encode("latin-1").split(b"\x00")
    out: list[bytes] = [b""] * (2 * k)
    out[0::2] = heads
    out[1::2] = lines[1:]
    return lines[0] + b"".join(out), n + k


def numbered(blocks: Iterable[bytes], prefix: bytes) -> Iterator[bytes]:
    """Records (each introduced by a newline, see `data_records(keep_lead=True)`) as
    `prefix<source_row>,<record>`, newline-separated."""
    n = 0
    in_quote = False
    first = True
    for block in blocks:
        quotes = block.count(b'"')
        if not quotes:
            out = block if in_quote else _number_part(block, prefix, n)
            if not in_quote:
                out, n = out
        else:
            parts = block.split(b'"')
            for i in range(1 if in_quote else 0, len(parts), 2):
                parts[i], n = _number_part(parts[i], prefix, n)
            out = b'"'.join(parts)
            in_quote ^= quotes % 2 == 1
        if first:
            out, first = out[1:], False
        yield out


def _transcoded(blocks: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    """Single-byte text re-encoded as UTF-8, block by block."""
    for block in blocks:
        yield block.decode(encoding).encode("utf-8")


def csv_text(value: str, encoding: str) -> bytes:
    """One CSV field in the file's encoding (UnicodeEncodeError when impossible); quoted only
    when it must be, since quoted fields take PostgreSQL's slower parsing path."""
    if value and not any(ch in value for ch in ',"\r\n') and value == value.strip():
        return value.encode(encoding)
    return b'"' + value.replace('"', '""').encode(encoding) + b'"'


def copy_rows(conn: psycopg.Connection, entity: str, layout: Layout, encoding: str,
              blocks: Iterable[bytes], ingestion_id: int, source_file: str) -> int:
    """COPY the data rows into bronze.<entity>; returns the number of rows written.

    `blocks` is the raw text after the header (see `read_header`).
    """
    try:
        meta = b"%d," % ingestion_id + csv_text(source_file, encoding) + b","
    except UnicodeEncodeError:
        # a cp1252 file under a name cp1252 cannot spell: hand PostgreSQL UTF-8 instead
        blocks = _transcoded(blocks, encoding)
        encoding = "utf-8"
        meta = b"%d," % ingestion_id + csv_text(source_file, encoding) + b","
    file_cols = [sql.Identifier(t) for t in layout.targets]
    if len(layout.names) > _MAX_STAGED_COLUMNS:
        return _copy_parsed(conn, entity, layout, encoding, blocks, ingestion_id, source_file)
    if layout.has_extra:
        return _copy_with_extra(conn, entity, layout, encoding, blocks, ingestion_id, source_file)
    stmt = sql.SQL("COPY {table} (ingestion_id, source_file, source_row, {cols}) FROM STDIN "
                   "WITH (FORMAT csv, ENCODING {enc}, FORCE_NOT_NULL ({cols}))").format(
        table=sql.Identifier("bronze", entity), cols=sql.SQL(", ").join(file_cols),
        enc=sql.Literal(PG_ENCODING[encoding]))
    with conn.cursor() as cur:
        with cur.copy(stmt) as copy:
            for block in numbered(blocks, meta):
                copy.write(block)
        return cur.rowcount


class _BlockReader(io.RawIOBase):
    """A readable binary stream over an iterator of byte blocks."""

    def __init__(self, blocks: Iterable[bytes]):
        self._blocks = iter(blocks)
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._rest:
            self._rest = next(self._blocks, b"")
            if not self._rest:
                return 0
        n = min(len(buffer), len(self._rest))
        buffer[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n


def _copy_parsed(conn, entity, layout, encoding, blocks, ingestion_id, source_file) -> int:
    """Headers wider than a staging table can be (PostgreSQL allows 1,600 columns): Python's
    csv module splits the rows, and COPY gets the required columns plus `extra` as JSON."""
    stdcsv.field_size_limit(sys.maxsize)
    width = len(layout.names)
    required = [(i, t) for i, t in enumerate(layout.targets) if i not in layout.extra_positions]
    extra_keys = [(i, layout.targets[i]) for i in layout.extra_positions]
    stmt = sql.SQL("COPY {table} ({cols}, extra, ingestion_id, source_file, source_row) FROM STDIN").format(
        table=sql.Identifier("bronze", entity),
        cols=sql.SQL(", ").join(sql.Identifier(t) for _, t in required))
    text = io.TextIOWrapper(io.BufferedReader(_BlockReader(blocks), CHUNK), encoding=encoding, newline="")
    rows = 0
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        for row in stdcsv.reader(text):
            if not row:
                continue  # the newline that introduces the first record
            rows += 1
            if len(row) != width:
                raise CsvFormatError(f"data row {rows} has {len(row)} field(s), the header has {width}: "
                                     "quote fields that contain commas, quotes or newlines")
            extra = stdjson.dumps({key: row[i] for i, key in extra_keys}, ensure_ascii=False)
            copy.write_row([*(row[i] for i, _ in required), extra, ingestion_id, source_file, rows])
    return rows


def _copy_with_extra(conn, entity, layout, encoding, blocks, ingestion_id, source_file) -> int:
    """Extra columns: COPY into a staging table, then move the rows with `extra` as jsonb."""
    staged = [sql.Identifier(f"c{i}") for i in range(len(layout.names))]
    conn.execute(sql.SQL(
        "create temp table medallion_stage (source_row bigint, {cols}) on commit drop").format(
        cols=sql.SQL(", ").join(sql.SQL("{} text").format(c) for c in staged)))
    cols = sql.SQL(", ").join(staged)
    stmt = sql.SQL("COPY medallion_stage (source_row, {cols}) FROM STDIN "
                   "WITH (FORMAT csv, ENCODING {enc}, FORCE_NOT_NULL ({cols}))").format(
        cols=cols, enc=sql.Literal(PG_ENCODING[encoding]))
    with conn.cursor() as cur:
        with cur.copy(stmt) as copy:
            for block in numbered(blocks, b""):
                copy.write(block)
    required = [(i, t) for i, t in enumerate(layout.targets) if i not in layout.extra_positions]
    keys = sql.SQL(", ").join(sql.Literal(layout.targets[i]) for i in layout.extra_positions)
    values = sql.SQL(", ").join(staged[i] for i in layout.extra_positions)
    insert = sql.SQL(
        "insert into {table} ({targets}, extra, ingestion_id, source_file, source_row) "
        "select {sources}, jsonb_object(array[{keys}]::text[], array[{values}]::text[]), "
        "{iid}, {sf}, source_row from medallion_stage order by source_row").format(
        table=sql.Identifier("bronze", entity),
        targets=sql.SQL(", ").join(sql.Identifier(t) for _, t in required),
        sources=sql.SQL(", ").join(staged[i] for i, _ in required),
        keys=keys, values=values, iid=sql.Literal(ingestion_id), sf=sql.Literal(source_file))
    with conn.cursor() as cur:
        cur.execute(insert)
        rows = cur.rowcount
    conn.execute("drop table medallion_stage")
    return rows


# ------------------------------------------------------------------ diagnostics

_COPY_LINE = re.compile(r"COPY \S+, line (\d+)")


def explain_copy_error(exc: psycopg.Error, text_lines: Iterable[str], layout: Layout) -> str:
    """An actionable message for a row PostgreSQL refused: which line, what was expected.

    `text_lines` is the decoded file (newline=''), read again only on this failure path.
    """
    primary = (exc.diag.message_primary or str(exc)).strip()
    context = exc.diag.context or ""
    match = _COPY_LINE.search(context)
    record_no = int(match.group(1)) if match else None
    width = len(layout.names)
    stdcsv.field_size_limit(sys.maxsize)
    reader = stdcsv.reader(text_lines)
    try:
        next(reader)  # header (leading blank lines are consumed with it)
    except (StopIteration, stdcsv.Error):
        return primary
    data_row = 0
    try:
        while True:
            start_line = reader.line_num + 1
            row = next(reader)
            if not row or (len(row) == 1 and not row[0].strip(" \t\r")):
                continue
            data_row += 1
            if len(row) != width:
                return (f"data row {data_row} (line {start_line}) has {len(row)} field(s), the header "
                        f"has {width}: quote fields that contain commas, quotes or newlines "
                        f"(PostgreSQL: {primary})")
            if record_no is not None and data_row == record_no:
                return f"data row {data_row} (line {start_line}): {primary}"
    except StopIteration:
        pass
    except stdcsv.Error as err:
        return f"line {reader.line_num}: {err} (PostgreSQL: {primary})"
    where = f"data row {record_no}: " if record_no else ""
    return f"{where}{primary}"
