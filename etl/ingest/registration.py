"""Registration (dag_2): discover, hash and validate raw files, settle what needs no loading.

Ignored, skipped_duplicate and rejected files get their `ops.ingestion_log` row here;
valid files are queued in `ops.ingestion_queue` for `loading.load_registered`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg

from etl.ingest import csv as csvload
from etl.ingest import json as jsonload
from etl.ingest import ledger
from etl.ingest.discover import RawFile, discover
from etl.ingest.report import FileResult, RegistrationReport
from etl.ingest.retry import with_retries
from etl.ingest.session import Session, raw_root
from etl.ingest.source import inspect, open_text_bytes
from etl.settings import Settings, get_settings

log = logging.getLogger(__name__)


def _validate(f: RawFile, encoding: str) -> str | None:
    """None when the file's start is what its kind needs, else the reason."""
    try:
        _counter, stream = open_text_bytes(f.path, f.compression)
        with stream:
            if f.kind == "csv":
                csvload.read_header(stream, encoding, f.entity)
            else:
                jsonload.check_start(stream, f.file_format, encoding)
    except (csvload.CsvFormatError, jsonload.JsonFormatError) as exc:
        return str(exc)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        return f"cannot be read: {exc}"
    return None


def _already(f: RawFile, prior: ledger.LogEntry) -> FileResult:
    """A file whose bytes were settled under this name before: reported, not logged again."""
    status = "skipped_duplicate" if prior.status == "loaded" else prior.status
    return FileResult(f.source_file, f.entity, status, 0, prior.encoding, prior.error, prior.ingestion_id)


def _register_one(conn: psycopg.Connection, f: RawFile, run_id: str | None) -> FileResult:
    if f.entity is None:
        if not ledger.ignored_known(conn, f):
            ledger.insert_log(conn, source_file=f.source_file, status="ignored", entity=None,
                                file_size_bytes=f.size, file_modified_at=f.modified_at, run_id=run_id)
        return FileResult(f.source_file, None, "ignored")
    cached = ledger.known_sha256(conn, f)
    prior = ledger.settled(conn, f.source_file, cached) if cached else None
    if prior is not None:  # unchanged since it was settled: not even read again
        return _already(f, prior)
    found = inspect(f.path, f.compression)
    common = dict(source_file=f.source_file, entity=f.entity, sha256=found.sha256 or None,
                  file_size_bytes=f.size, file_modified_at=f.modified_at, compression=f.compression,
                  file_format=f.file_format, run_id=run_id)
    if found.sha256:
        prior = ledger.settled(conn, f.source_file, found.sha256)
        if prior is not None:  # these very bytes under this name: already decided
            return _already(f, prior)
    error = found.error
    if error is None:
        duplicate = ledger.loaded_with(conn, found.sha256)
        if duplicate is not None:
            iid, _ = ledger.insert_log(conn, status="skipped_duplicate", encoding=found.encoding,
                                         **common)
            log.info("%s: same bytes as %s (ingestion %d): skipped", f.source_file, duplicate[1],
                     duplicate[0])
            return FileResult(f.source_file, f.entity, "skipped_duplicate", 0, found.encoding, None, iid)
        error = _validate(f, found.encoding)
    if error is not None:
        message = f"{f.source_file}: {error}"
        iid, _ = ledger.insert_log(conn, status="rejected", encoding=found.encoding, error=message,
                                     **common)
        log.warning("rejected %s", message)
        return FileResult(f.source_file, f.entity, "rejected", 0, found.encoding, message, iid)
    ledger.enqueue(conn, f, found.sha256, found.encoding, run_id)
    return FileResult(f.source_file, f.entity, "pending", 0, found.encoding, sha256=found.sha256)


def register_files(raw_dir: Path | None = None, *, run_id: str | None = None,
                   settings: Settings | None = None) -> RegistrationReport:
    """Discover, hash and validate raw files; settle ignored / duplicate / rejected ones in
    ops.ingestion_log and queue the valid ones for `load_registered`.
    """
    settings = settings or get_settings()
    root = raw_root(raw_dir, settings)
    report = RegistrationReport()
    session = Session(settings)
    try:
        for f in discover(root):
            result = with_retries(lambda: _register_one(session.conn, f, run_id),
                                  f"registering {f.source_file}")
            report.files.append(result)
            if result.status == "pending":
                (report.pending_csv if f.kind == "csv" else report.pending_json).append(f.source_file)
    finally:
        session.close()
    log.info("registered %d file(s) in %s: %d CSV and %d JSON queued, %d rejected",
             len(report.files), root, len(report.pending_csv), len(report.pending_json),
             len(report.rejected))
    return report
