"""Registration (dag_2): discover, hash and validate raw files, settle what needs no loading.

Ignored, skipped_duplicate and rejected files get their `ops.ingestion_log` row here;
valid files are queued in `ops.ingestion_queue` for `loading.load_registered`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

import psycopg

from etl.ingest import csv as csvload
from etl.ingest import json as jsonload
from etl.ingest import ledger
from etl.ingest.discover import RawFile, discover
from etl.ingest.faults import describe, is_file_fault, is_verdict
from etl.ingest.report import FileResult, RegistrationReport
from etl.ingest.retry import with_retries
from etl.ingest.session import Session, raw_root
from etl.ingest.source import Inspection, inspect, open_text_bytes
from etl.settings import Settings, get_settings

log = logging.getLogger(__name__)


def _validate(f: RawFile, encoding: str) -> tuple[str | None, bool]:
    """(None when the file's start is what its kind needs, else the reason; whether the reason
    is a verdict on the bytes, see `faults.is_verdict`)."""
    try:
        _counter, stream = open_text_bytes(f.path, f.compression)
        with stream:
            if f.kind == "csv":
                csvload.read_header(stream, encoding, f.entity)
            else:
                jsonload.check_start(stream, f.file_format, encoding)
    except (OSError, EOFError) as exc:
        return f"cannot be read: {exc}", True
    except Exception as exc:  # noqa: BLE001 - whatever the file makes a reader raise rejects it
        if not is_file_fault(exc):
            raise
        return describe(exc), is_verdict(exc)
    return None, True


def _inspect(f: RawFile, max_bytes: int) -> Inspection:
    """`source.inspect`, with anything the file makes it raise as the inspection's error."""
    try:
        return inspect(f.path, f.compression, max_bytes)
    except Exception as exc:  # noqa: BLE001 - the file's fault only; the rest is raised
        if not is_file_fault(exc):
            raise
        return Inspection("", error=f"cannot be read: {describe(exc)}")  # no hash: judged again


def _moved(f: RawFile) -> bool:
    """True when the file is no longer what discovery saw (rewritten, removed, replaced)."""
    try:
        st = os.stat(f.path, follow_symlinks=False)
    except OSError:
        return True
    return st.st_size != f.size or st.st_mtime_ns != f.mtime_ns


def _already(f: RawFile, prior: ledger.LogEntry) -> FileResult:
    """A file whose bytes were settled under this name before: reported, not logged again."""
    status = "skipped_duplicate" if prior.status == "loaded" else prior.status
    return FileResult(f.source_file, f.entity, status, 0, prior.encoding, prior.error, prior.ingestion_id)


def _register_one(conn: psycopg.Connection, f: RawFile, run_id: str | None,
                  max_bytes: int) -> FileResult:
    if f.entity is None or f.ignored_because is not None:
        if not ledger.ignored_known(conn, f):
            ledger.insert_log(conn, source_file=f.source_file, status="ignored", entity=None,
                              error=f.ignored_because, file_size_bytes=f.size,
                              file_modified_at=f.modified_at, run_id=run_id)
            if f.ignored_because:
                log.warning("ignored %s: %s", f.source_file, f.ignored_because)
        return FileResult(f.source_file, None, "ignored", error=f.ignored_because)
    cached = ledger.known_sha256(conn, f)
    prior = ledger.settled(conn, f.source_file, cached) if cached else None
    if prior is not None:  # unchanged since it was settled: not even read again
        return _already(f, prior)
    found = _inspect(f, max_bytes)
    common = dict(source_file=f.source_file, entity=f.entity,
                  sha256=(found.sha256 or None) if found.verdict else None,
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
        error, verdict = _validate(f, found.encoding)
        if not verdict:
            common["sha256"] = None
    if error is not None and _moved(f):
        # What was read is not what was discovered: no verdict on either version's bytes.
        common["sha256"] = None
        error = (f"changed or vanished while it was being registered ({error}); "
                 "it is judged again on the next run")
    if error is not None:
        message = f"{f.source_file}: {error}"
        iid, _ = ledger.insert_log(conn, status="rejected", encoding=found.encoding, error=message,
                                   **common)
        log.warning("rejected %s", message)
        return FileResult(f.source_file, f.entity, "rejected", 0, found.encoding, message, iid)
    ledger.enqueue(conn, f, found.sha256, found.encoding, run_id)
    return FileResult(f.source_file, f.entity, "pending", 0, found.encoding, sha256=found.sha256)


def in_raw_data_path(found: list[RawFile], root: Path, settings: Settings) -> list[RawFile]:
    """`found` (paths relative to `root`) with `source_file` relative to RAW_DATA_PATH when
    `root` is a folder inside it (the contract's rule), so `2024/users.csv` keeps its name
    whether RAW_DATA_PATH or its `2024` folder is ingested. A root outside RAW_DATA_PATH
    (the CLI's --raw-dir elsewhere) is the base of its own paths. A common prefix keeps
    the byte order of the paths."""
    base = settings.raw_dir()
    if root == base or not root.is_relative_to(base):
        return found
    prefix = root.relative_to(base).as_posix()
    return [dataclasses.replace(f, source_file=f"{prefix}/{f.source_file}") for f in found]


def register_files(raw_dir: Path | None = None, *, run_id: str | None = None,
                   settings: Settings | None = None,
                   within_raw_data_path: bool = False) -> RegistrationReport:
    """Discover, hash and validate raw files; settle ignored / duplicate / rejected ones in
    ops.ingestion_log and queue the valid ones for `load_registered`.

    With `within_raw_data_path` (the DAG: its `raw_dir` param comes from the console or the
    REST API), a `raw_dir` that does not resolve inside RAW_DATA_PATH is a ConfigError; the
    CLI's `--raw-dir` is an operator's explicit choice and may point anywhere.
    """
    settings = settings or get_settings()
    root = raw_root(raw_dir, settings, within_raw_data_path=within_raw_data_path)
    report = RegistrationReport()
    session = Session(settings)
    try:
        session.require_schema()
        for f in in_raw_data_path(discover(root), root, settings):
            result = with_retries(
                lambda: _register_one(session.conn, f, run_id, settings.ingest_max_file_bytes),
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
