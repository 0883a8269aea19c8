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

A large file (OWN_TABLE_BYTES) goes into a table of its own, created in the loading
transaction and made an inheritance child of bronze.<entity> before the commit
(`_copy_into_own_table`): there the constant metadata are column defaults of a table
nobody else can see yet, and the key indexes are built once instead of kept up row by
row. Measured (backend CPU for 2M rows, 7-column `\\copy` = 1.07 s): into bronze.<entity>
4.6 s, of which the key index upkeep 2.8 s; into an own table 2.5 s, index build included.
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
# From this much text on, a file gets a table of its own (see `_copy_into_own_table`).
# Below it, row by row index upkeep is cheap in absolute terms, and bronze.<entity>
# stays one table for the many small files of a landing folder: every child table is
# one more relation each query of bronze plans, locks and probes by key.
OWN_TABLE_BYTES = 32 * 1024 * 1024
OWN_TABLE_SCHEMA = "bronze_files"


def copy_rows(conn: psycopg.Connection, entity: str, layout: Layout, encoding: str,
              blocks: Iterable[bytes], ingestion_id: int, source_file: str,
              text_bytes: int = 0) -> int:
    """COPY the data rows into bronze.<entity>; returns the number of rows written.

    `blocks` is the raw text after the header (see `read_header`); `text_bytes` the
    (estimated) size of that text: from OWN_TABLE_BYTES on, the rows go into a table of
    their own that inherits from bronze.<entity> (see `_copy_into_own_table`).
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
    if text_bytes >= OWN_TABLE_BYTES:
        return _copy_into_own_table(conn, entity, layout, encoding, blocks, ingestion_id, source_file)
    stmt = sql.SQL("COPY {table} (ingestion_id, source_file, source_row, {cols}) FROM STDIN "
                   "WITH (FORMAT csv, ENCODING {enc}, FORCE_NOT_NULL ({cols}))").format(
        table=sql.Identifier("bronze", entity), cols=sql.SQL(", ").join(file_cols),
        enc=sql.Literal(PG_ENCODING[encoding]))
    with conn.cursor() as cur:
        with cur.copy(stmt) as copy:
            for block in numbered(blocks, meta):
                copy.write(block)
        return cur.rowcount


def _copy_into_own_table(conn: psycopg.Connection, entity: str, layout: Layout, encoding: str,
                         blocks: Iterable[bytes], ingestion_id: int, source_file: str) -> int:
    """COPY a large file's rows into bronze_files.<entity>_<ingestion_id>, a table created in
    this transaction, then build its indexes and make it a child of bronze.<entity>.

    Row by row upkeep of the parent's key expression indexes cost more server time than
    the COPY itself; one sorted build per file costs a fifth of it (sql/migrations/0530).
    The table is new in this transaction, so COPY FREEZE writes its rows frozen (no hint
    bits to set, no freezing vacuum later), and `ingestion_id` and `source_file` come from
    constant column defaults: the byte pass only puts the row number in front of each
    record. Until the commit nobody else can see the table, and a rollback drops it.
    """
    parent = sql.Identifier("bronze", entity)
    table = sql.Identifier(OWN_TABLE_SCHEMA, f"{entity}_{ingestion_id}")
    file_cols = sql.SQL(", ").join(sql.Identifier(t) for t in layout.targets)
    conn.execute(sql.SQL(
        "create table {table} (like {parent} including defaults, "
        "constraint {check} check (ingestion_id = {iid}))").format(
        table=table, parent=parent, check=sql.Identifier(f"{entity}_{ingestion_id}_ingestion_check"),
        iid=sql.Literal(ingestion_id)))
    conn.execute(sql.SQL(
        "alter table {table} alter column ingestion_id set default {iid}, "
        "alter column source_file set default {sf}").format(
        table=table, iid=sql.Literal(ingestion_id), sf=sql.Literal(source_file)))
    stmt = sql.SQL("COPY {table} (source_row, {cols}) FROM STDIN "
                   "WITH (FORMAT csv, FREEZE, ENCODING {enc}, FORCE_NOT_NULL ({cols}))").format(
        table=table, cols=file_cols, enc=sql.Literal(PG_ENCODING[encoding]))
    with conn.cursor() as cur:
        with cur.copy(stmt) as copy:
            for block in numbered(blocks, b""):
                copy.write(block)
        rows = cur.rowcount
    conn.execute(sql.SQL("alter table {table} alter column ingestion_id drop default, "
                         "alter column source_file drop default").format(table=table))
    for method_and_keys in _child_indexes(conn, entity):
        conn.execute(sql.SQL("create index on {table} using {rest}").format(
            table=table, rest=sql.SQL(method_and_keys)))
    conn.execute(sql.SQL("alter table {table} inherit {parent}").format(table=table, parent=parent))
    return rows


_INDEX_TAIL = re.compile(r" USING (.+)$", re.DOTALL)


def _child_indexes(conn: psycopg.Connection, entity: str) -> list[str]:
    """`method (keys) ...` of each index of bronze.<entity> a child table needs.

    Taken from the catalog, so that a child gets whatever indexes the migrations give the
    parent; the BRIN index on ingestion_id alone is left out, as a child holds one
    ingestion (its CHECK constraint lets the planner skip the child instead).
    """
    rows = conn.execute(
        """select pg_get_indexdef(i.indexrelid)
           from pg_index as i
           where i.indrelid = format('bronze.%%I', %s::text)::regclass
             and not (i.indnatts = 1 and i.indkey[0] = (
                 select attnum from pg_attribute
                 where attrelid = i.indrelid and attname = 'ingestion_id'))
           order by i.indexrelid""", (entity,)).fetchall()
    tails = []
    for (definition,) in rows:
        match = _INDEX_TAIL.search(definition)
        if match is None:  # pg_get_indexdef always names the method; refuse to guess otherwise
            raise RuntimeError(f"unexpected index definition on bronze.{entity}: {definition}")
        tails.append(match.group(1))
    return tails


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
