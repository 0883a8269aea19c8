"""CSV files into bronze with PostgreSQL COPY: PostgreSQL parses, Python only streams bytes.

`header` reads the header row, `records` turns the blocks after it into numbered
records with their metadata; this module runs the COPY. The per-row metadata work
runs in this process while PostgreSQL parses the previous block, which is cheaper
than per-row default expressions evaluated by the server. Measured (issue 14, server
CPU for 2M rows, plain 7-column `psql \\copy` = 1.0): these prefixed records 0.60; ingestion_id
and source_file from `current_setting` defaults 0.51, plus source_row from a sequence
0.46; a staging table and insert-select 0.33. Only constant defaults (0.74) beat the
prefix, and they need ALTER TABLE, whose lock would serialise loaders and readers.
When PostgreSQL refuses a row, a slow diagnostic pass with Python's csv module finds
the line to name.
"""

from __future__ import annotations

import csv as stdcsv
import io
import json as stdjson
import logging
import re
import sys
from typing import Iterable

import psycopg
from psycopg import sql

from etl.ingest.header import REQUIRED, CsvFormatError, Layout, read_header
from etl.ingest.records import csv_text, data_records, numbered, transcoded
from etl.ingest.source import CHUNK

__all__ = ["REQUIRED", "CsvFormatError", "Layout", "read_header", "data_records", "numbered",
           "csv_text", "copy_rows", "explain_copy_error"]

log = logging.getLogger(__name__)

PG_ENCODING = {"utf-8": "UTF8", "cp1252": "WIN1252"}
_MAX_STAGED_COLUMNS = 1000  # staging table columns; PostgreSQL stops at 1,600


def copy_rows(conn: psycopg.Connection, entity: str, layout: Layout, encoding: str,
              blocks: Iterable[bytes], ingestion_id: int, source_file: str) -> int:
    """COPY the data rows into bronze.<entity>; returns the number of rows written.

    `blocks` is the raw text after the header (see `read_header`).
    """
    try:
        meta = b"%d," % ingestion_id + csv_text(source_file, encoding) + b","
    except UnicodeEncodeError:
        # a cp1252 file under a name cp1252 cannot spell: hand PostgreSQL UTF-8 instead
        blocks = transcoded(blocks, encoding)
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
