"""Bronze ingestion, the public API: register raw files (dag_2), then load them by kind (dag_3).

`register_files` (see `registration`) discovers, hashes and validates every file,
settles the ones that need no loading (ignored, skipped_duplicate, rejected) in
`ops.ingestion_log` and queues the rest in `ops.ingestion_queue`. `load_registered`
(see `loading`) loads the queued files of one kind, each in one transaction, in byte
order of path. `ingest` does both, for the CLI.
"""

from __future__ import annotations

import logging
from pathlib import Path

from etl import db
from etl.ingest import registry
from etl.ingest.loading import KINDS, load_registered
from etl.ingest.progress import FileProgress
from etl.ingest.registration import register_files
from etl.ingest.report import FileResult, IngestReport, RegistrationReport
from etl.ingest.retry import with_retries
from etl.settings import Settings, get_settings

__all__ = ["register_files", "load_registered", "ingest", "FileResult", "IngestReport",
           "RegistrationReport", "KINDS"]

log = logging.getLogger(__name__)


def ingest(raw_dir: Path | None = None, *, run_id: str | None = None, settings: Settings | None = None,
           batch_size: int | None = None, progress: bool = False) -> IngestReport:
    """Register every raw file, then load the CSV and the JSON ones: the whole bronze step."""
    settings = settings or get_settings()
    registration = register_files(raw_dir, run_id=run_id, settings=settings)
    results = {f.source_file: f for f in registration.files}
    extra: list[FileResult] = []
    with FileProgress(progress) as bars:
        for kind in KINDS:
            loaded = load_registered(kind, run_id=run_id, settings=settings, batch_size=batch_size,
                                     progress=bars)
            for f in loaded.files:
                if results.get(f.source_file, FileResult("", None, "")).status == "pending":
                    results[f.source_file] = f
                else:
                    extra.append(f)  # queued by an earlier registration
        for name, result in results.items():
            if result.status == "pending":  # another loader took it: report what became of it
                results[name] = _outcome(settings, result)
    return IngestReport(files=list(results.values()) + extra)


def _outcome(settings: Settings, pending: FileResult) -> FileResult:
    """The settled state of a file another process loaded or rejected meanwhile."""
    def look() -> registry.LogEntry | None:
        with db.connect(settings, autocommit=True) as conn:
            return registry.settled(conn, pending.source_file, pending.sha256 or "")
    prior = with_retries(look, f"checking {pending.source_file}")
    if prior is None:
        return pending
    status = "skipped_duplicate" if prior.status == "loaded" else prior.status
    return FileResult(pending.source_file, pending.entity, status, 0, prior.encoding, prior.error,
                      prior.ingestion_id, pending.sha256)
