"""`ops.ingestion_log` (one row per file an ingestion settled) and `ops.ingestion_queue`
(files registered and validated, waiting for their loader). Small parameterised queries only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from etl.ingest.discover import RawFile

KIND_ENTITIES = {"csv": ("users", "viewing_sessions"), "json": ("content",)}


@dataclass
class LogEntry:
    ingestion_id: int
    status: str
    rows_loaded: int
    encoding: str | None
    error: str | None


@dataclass
class QueuedFile:
    """A row of ops.ingestion_queue."""

    queue_id: int
    source_file: str
    file_path: str
    sha256: str
    entity: str
    file_format: str
    compression: str | None
    encoding: str
    file_size_bytes: int
    file_mtime_ns: int
    file_modified_at: datetime | None
    run_id: str | None


def settled(conn: psycopg.Connection, source_file: str, sha256: str) -> LogEntry | None:
    """The latest decision about these exact bytes under this path, if any."""
    row = conn.execute(
        """select ingestion_id, status, rows_loaded, encoding, error from ops.ingestion_log
           where source_file = %s and sha256 = %s
             and status in ('loaded', 'skipped_duplicate', 'rejected')
           order by (status = 'loaded') desc, ingestion_id desc limit 1""",
        (source_file, sha256)).fetchone()
    return LogEntry(*row) if row else None


def known_sha256(conn: psycopg.Connection, f: RawFile) -> str | None:
    """The hash recorded for this path when its size and modification time are unchanged.

    Lets a re-run skip re-reading files it already settled (as make and rsync do); any
    change of size or mtime means the file is read and hashed again.
    """
    row = conn.execute(
        """select sha256 from ops.ingestion_log
           where source_file = %s and file_size_bytes = %s and file_modified_at = %s
             and sha256 is not null and status in ('loaded', 'skipped_duplicate', 'rejected')
           order by ingestion_id desc limit 1""",
        (f.source_file, f.size, f.modified_at)).fetchone()
    return row[0] if row else None


def loaded_with(conn: psycopg.Connection, sha256: str) -> tuple[int, str] | None:
    """(ingestion_id, source_file) of the loaded file with these bytes, if any."""
    row = conn.execute(
        "select ingestion_id, source_file from ops.ingestion_log where sha256 = %s and status = 'loaded'",
        (sha256,)).fetchone()
    return (row[0], row[1]) if row else None


def loaded_ids(conn: psycopg.Connection, entity: str) -> set[int]:
    rows = conn.execute("select ingestion_id from ops.ingestion_log where status = 'loaded' "
                        "and entity = %s", (entity,)).fetchall()
    return {r[0] for r in rows}


def ignored_known(conn: psycopg.Connection, f: RawFile) -> bool:
    """True when this ignored file (same path, size and mtime) was already logged."""
    return conn.execute(
        """select 1 from ops.ingestion_log where status = 'ignored' and source_file = %s
           and file_size_bytes = %s and file_modified_at = %s limit 1""",
        (f.source_file, f.size, f.modified_at)).fetchone() is not None


def insert_log(conn: psycopg.Connection, *, source_file: str, status: str, entity: str | None,
               sha256: str | None = None, rows_loaded: int = 0, encoding: str | None = None,
               error: str | None = None, file_size_bytes: int | None = None,
               file_modified_at: datetime | None = None, compression: str | None = None,
               file_format: str | None = None, run_id: str | None = None,
               finished: bool = True) -> tuple[int, datetime]:
    """Insert one log row; returns (ingestion_id, started_at)."""
    row = conn.execute(
        """insert into ops.ingestion_log
             (source_file, sha256, entity, status, rows_loaded, encoding, error, finished_at,
              file_size_bytes, file_modified_at, compression, file_format, run_id)
           values (%s, %s, %s, %s, %s, %s, %s,
                   case when %s then clock_timestamp() end, %s, %s, %s, %s, %s)
           returning ingestion_id, started_at""",
        (source_file, sha256, entity, status, rows_loaded, encoding, error, finished,
         file_size_bytes, file_modified_at, compression, file_format, run_id)).fetchone()
    return row[0], row[1]


def finish_loaded(conn: psycopg.Connection, ingestion_id: int, rows_loaded: int) -> None:
    conn.execute("update ops.ingestion_log set rows_loaded = %s, finished_at = clock_timestamp() "
                 "where ingestion_id = %s", (rows_loaded, ingestion_id))


def enqueue(conn: psycopg.Connection, f: RawFile, sha256: str, encoding: str,
            run_id: str | None) -> None:
    """Queue a validated file for its loader (once per path and content)."""
    conn.execute(
        """insert into ops.ingestion_queue
             (source_file, file_path, sha256, entity, file_format, compression, encoding,
              file_size_bytes, file_mtime_ns, file_modified_at, run_id)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           on conflict (source_file, sha256) do update
             set file_path = excluded.file_path, file_size_bytes = excluded.file_size_bytes,
                 file_mtime_ns = excluded.file_mtime_ns, file_modified_at = excluded.file_modified_at""",
        (f.source_file, str(f.path), sha256, f.entity, f.file_format, f.compression, encoding,
         f.size, f.mtime_ns, f.modified_at, run_id))


def queued(conn: psycopg.Connection, kind: str) -> list[QueuedFile]:
    """Files waiting for the `kind` loader, in contract order (byte order of path)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """select queue_id, source_file, file_path, sha256, entity, file_format, compression,
                      encoding, file_size_bytes, file_mtime_ns, file_modified_at, run_id
               from ops.ingestion_queue where entity = any(%s)
               order by source_file collate "C", queue_id""",
            (list(KIND_ENTITIES[kind]),))
        return [QueuedFile(**row) for row in cur.fetchall()]


def take(conn: psycopg.Connection, queue_id: int) -> bool:
    """Remove the entry inside the caller's transaction; False when another loader took it.

    The row lock also makes a concurrent loader of the same entry wait for this one.
    """
    return conn.execute("delete from ops.ingestion_queue where queue_id = %s returning 1",
                        (queue_id,)).fetchone() is not None
