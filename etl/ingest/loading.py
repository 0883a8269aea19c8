"""Loading (dag_3): the queued files of one kind into bronze, each in one transaction.

CSV goes through COPY (see `csv`); JSON documents go to `bronze.content` and, in
batches, to MongoDB (see `mongo`). A file that fails is rejected whole; transient
database errors are retried from the start of the file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import psycopg
from psycopg import errors as pgerrors

from etl import db
from etl.errors import ConfigError
from etl.ingest import csv as csvload
from etl.ingest import json as jsonload
from etl.ingest import ledger, mongo
from etl.ingest.faults import describe, is_file_fault, is_verdict
from etl.ingest.progress import FileProgress
from etl.ingest.report import FileResult, IngestReport
from etl.ingest.retry import with_retries
from etl.ingest.session import Session, schema_missing
from etl.ingest.source import chunks, open_raw, open_text_bytes
from etl.settings import Settings, get_settings

log = logging.getLogger(__name__)

KINDS = ("csv", "json")
_JSON_LOCK_KEY = 7_041_979_003


class _Duplicate(Exception):
    """Another ingestion loaded these bytes first (the unique index said so)."""


@dataclass
class _Loaded:
    ingestion_id: int
    rows: int


def _load_csv(conn: psycopg.Connection, entry: ledger.QueuedFile, ingestion_id: int,
              on_bytes: Callable[[int], None] | None) -> int:
    _counter, stream = open_text_bytes(Path(entry.file_path), entry.compression, on_bytes=on_bytes)
    with stream:
        layout, pending = csvload.read_header(stream, entry.encoding, entry.entity)
        try:
            return csvload.copy_rows(conn, entry.entity, layout, entry.encoding,
                                     csvload.data_records(chunks(stream), pending, keep_lead=True),
                                     ingestion_id, entry.source_file,
                                     text_bytes=_text_bytes(entry))
        except psycopg.DataError as exc:
            raise csvload.CsvFormatError(_explain_csv(entry, layout, exc)) from exc


# What a gzip file of CSV text typically expands to, for choosing the load path only
# (the byte count of the text is not kept at registration).
_GZIP_EXPANSION = 5


def _text_bytes(entry: ledger.QueuedFile) -> int:
    """An estimate of the file's text size (decompressed)."""
    return entry.file_size_bytes * (_GZIP_EXPANSION if entry.compression == "gzip" else 1)


def _explain_csv(entry: ledger.QueuedFile, layout: csvload.Layout, exc: psycopg.Error) -> str:
    _counter, stream = open_text_bytes(Path(entry.file_path), entry.compression)
    encoding = "utf-8-sig" if entry.encoding == "utf-8" else entry.encoding
    with io.TextIOWrapper(stream, encoding=encoding, newline="") as text:
        return csvload.explain_copy_error(exc, text, layout)


def _load_json(conn: psycopg.Connection, entry: ledger.QueuedFile, ingestion_id: int,
               writer: mongo.MongoBatchWriter, on_bytes: Callable[[int], None] | None) -> int:
    _counter, stream = open_text_bytes(Path(entry.file_path), entry.compression, on_bytes=on_bytes)
    rows = 0
    with stream, conn.cursor() as cur:
        try:
            with cur.copy("copy bronze.content (doc, ingestion_id, source_file, source_row) "
                          "from stdin") as copy:
                for doc in jsonload.documents(stream, entry.file_format, entry.encoding):
                    copy.write_row((doc.text, ingestion_id, entry.source_file, doc.source_row))
                    writer.add(doc.obj, doc.source_row)
                    rows += 1
        except psycopg.DataError as exc:
            context = exc.diag.context or ""
            where = csvload._COPY_LINE.search(context)
            doc = f"document {where.group(1)}: " if where else ""
            raise jsonload.JsonFormatError(f"{doc}{describe(exc)}") from exc
        writer.flush()
    return rows


class _Changed(csvload.CsvFormatError):
    """The file is no longer the bytes that were registered."""


def _check_unchanged(entry: ledger.QueuedFile) -> None:
    """Raise _Changed unless the file still holds the registered bytes (a mere touch is fine)."""
    path = Path(entry.file_path)
    try:
        if _same_stat(entry):
            return
        digest = hashlib.sha256()
        with open_raw(path) as raw:
            for block in chunks(raw):
                digest.update(block)
    except OSError as exc:
        raise _Changed(f"vanished or cannot be read any more since it was registered "
                       f"({exc.strerror or exc}); nothing of it was loaded") from exc
    if digest.hexdigest() != entry.sha256:
        raise _Changed("changed after it was registered; it is judged again on the next run")


def _same_stat(entry: ledger.QueuedFile) -> bool:
    """True when the file's size and modification time are still the registered ones."""
    st = os.stat(entry.file_path, follow_symlinks=False)
    return st.st_size == entry.file_size_bytes and st.st_mtime_ns == entry.file_mtime_ns


def _changed_meanwhile(entry: ledger.QueuedFile) -> bool:
    """True when the file moved under the loader: a failure then says nothing of its bytes."""
    try:
        return not _same_stat(entry)
    except OSError:
        return True


def _settle(session: Session, entry: ledger.QueuedFile, status: str, error: str | None,
            sha256: str | None) -> FileResult:
    """Record a queued file's final non-loaded outcome and take it off the queue."""
    def work() -> int:
        conn = session.conn
        with conn.transaction():
            ledger.take(conn, entry.queue_id)
            iid, _ = ledger.insert_log(
                conn, source_file=entry.source_file, status=status, entity=entry.entity,
                sha256=sha256, encoding=entry.encoding, error=error,
                file_size_bytes=entry.file_size_bytes, file_modified_at=entry.file_modified_at,
                compression=entry.compression, file_format=entry.file_format, run_id=entry.run_id)
        return iid
    iid = with_retries(work, f"recording {entry.source_file}")
    return FileResult(entry.source_file, entry.entity, status, 0, entry.encoding, error, iid)


def _load_one(session: Session, entry: ledger.QueuedFile, coll, batch_size: int,
              run_id: str | None, progress: FileProgress) -> FileResult | None:
    def attempt() -> _Loaded | None:
        conn = session.conn
        writer: mongo.MongoBatchWriter | None = None
        iid: int | None = None
        try:
            with conn.transaction():
                if not ledger.take(conn, entry.queue_id):
                    return None  # another loader had it
                _check_unchanged(entry)
                try:
                    with conn.transaction():  # savepoint: a duplicate is an answer, not a failure
                        iid, started = ledger.insert_log(
                            conn, source_file=entry.source_file, status="loaded", entity=entry.entity,
                            sha256=entry.sha256, encoding=entry.encoding,
                            file_size_bytes=entry.file_size_bytes,
                            file_modified_at=entry.file_modified_at, compression=entry.compression,
                            file_format=entry.file_format, run_id=run_id or entry.run_id,
                            finished=False)
                except pgerrors.UniqueViolation:
                    raise _Duplicate() from None
                with progress.track(entry.source_file, entry.file_size_bytes) as on_bytes:
                    if entry.entity == "content":
                        writer = mongo.MongoBatchWriter(coll, batch_size, iid, entry.source_file, started)
                        rows = _load_json(conn, entry, iid, writer, on_bytes)
                    else:
                        rows = _load_csv(conn, entry, iid, on_bytes)
                ledger.finish_loaded(conn, iid, rows)
            return _Loaded(iid, rows)
        except BaseException:
            if writer is not None:
                _discard_unless_committed(session.settings, writer, iid)
            raise

    try:
        loaded = with_retries(attempt, f"loading {entry.source_file}")
    except _Duplicate:
        log.info("%s: its bytes were loaded by another ingestion meanwhile: skipped", entry.source_file)
        return _settle(session, entry, "skipped_duplicate", None, entry.sha256)
    except Exception as exc:  # noqa: BLE001 - only the file's own faults are settled here
        if not is_file_fault(exc):
            missing = schema_missing(exc, session.settings)
            if missing is not None:
                raise missing from exc
            raise
        changed = isinstance(exc, _Changed)
        if not changed and _changed_meanwhile(entry):
            # It was rewritten while being read: its registered bytes are not to blame.
            changed = True
            exc = _Changed(f"changed while it was being loaded ({describe(exc)}); "
                           "it is judged again on the next run")
        message = f"{entry.source_file}: {describe(exc)}"
        log.warning("rejected %s", message)
        log.debug("why %s was rejected", entry.source_file, exc_info=exc)
        # A file that changed is not these bytes' fault: no hash, so they are judged again.
        verdict = not changed and is_verdict(exc)
        return _settle(session, entry, "rejected", message, entry.sha256 if verdict else None)
    if loaded is None:
        return None
    log.info("%s: loaded %d rows into bronze.%s (ingestion %d)", entry.source_file, loaded.rows,
             entry.entity, loaded.ingestion_id)
    return FileResult(entry.source_file, entry.entity, "loaded", loaded.rows, entry.encoding, None,
                      loaded.ingestion_id)


def _discard_unless_committed(settings: Settings, writer: mongo.MongoBatchWriter,
                              ingestion_id: int | None) -> None:
    """Remove MongoDB documents of an ingestion PostgreSQL did not commit.

    When that cannot be told (the database is gone), the documents stay and
    `remove_orphans` settles them before the next JSON load.
    """
    try:
        with db.connect(settings, autocommit=True) as conn:
            committed = ingestion_id is not None and conn.execute(
                "select 1 from ops.ingestion_log where ingestion_id = %s and status = 'loaded'",
                (ingestion_id,)).fetchone() is not None
    except Exception:  # noqa: BLE001 - unknown outcome: leave it to remove_orphans
        log.warning("could not tell whether ingestion %s committed; its MongoDB documents "
                    "are settled on the next load", ingestion_id)
        return
    if not committed:
        writer.discard()


def load_registered(kind: str, *, run_id: str | None = None, settings: Settings | None = None,
                    batch_size: int | None = None, progress: FileProgress | None = None) -> IngestReport:
    """Load the queued files of `kind` ('csv': users and viewing_sessions, 'json': content),
    each in one transaction, in byte order of path; a file that fails is rejected whole.
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown kind {kind!r}: expected one of {', '.join(KINDS)}")
    settings = settings or get_settings()
    batch_size = batch_size or settings.bronze_batch_size
    progress = progress or FileProgress(False)
    report = IngestReport()
    session = Session(settings)
    client = None
    lock = None
    try:
        session.require_schema()
        if kind == "json":
            # One JSON loader at a time: another one's uncommitted MongoDB documents
            # would otherwise look like orphans to `remove_orphans`.
            lock = db.connect(settings, autocommit=True)
            lock.execute("select pg_advisory_lock(%s)", (_JSON_LOCK_KEY,))
        entries = with_retries(lambda: ledger.queued(session.conn, kind), f"listing queued {kind} files")
        coll = None
        if kind == "json" and entries:
            client = db.mongo_client(settings)
            coll = mongo.collection(client[settings.mongo_db])
            mongo.remove_orphans(coll, with_retries(lambda: ledger.loaded_ids(session.conn, "content"),
                                                    "listing loaded content"))
        for entry in entries:
            result = _load_one(session, entry, coll, batch_size, run_id, progress)
            if result is not None:
                report.files.append(result)
    finally:
        session.close()
        if client is not None:
            client.close()
        if lock is not None:
            lock.close()  # ends the session, and with it the advisory lock
    log.info("loaded %d %s file(s), %d rows; %d rejected", len(report.loaded), kind,
             report.rows_loaded, len(report.rejected))
    return report
