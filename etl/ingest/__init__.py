"""Bronze ingestion (contract sections 1 and 2): raw files into PostgreSQL and MongoDB.

The public API lives here: `register_files` (dag_2) discovers, hashes and validates
every file, settles the ones that need no loading (ignored, skipped_duplicate,
rejected) in `ops.ingestion_log` and queues the rest in `ops.ingestion_queue`;
`load_registered` (dag_3) loads the queued files of one kind, each in one
transaction, in byte order of path; `ingest` does both, for the CLI.

- `registration`, `loading`: the two halves behind that API
- `discover`: which files, which entity, in byte order of path
- `source`: opening (gzip), hashing, encoding (UTF-8, else cp1252)
- `header`, `records`, `csv`: the header row, the streaming byte pass, COPY
- `json`: streamed documents of `.json` arrays and `.jsonl` lines
- `mongo`: `bronze_content_json` batches and their clean-up
- `ledger`: `ops.ingestion_log` and `ops.ingestion_queue`
- `session`, `retry`, `progress`, `report`, `command`: plumbing and `medallion ingest`

`registration` and `loading` (and with them psycopg and pymongo) are imported on
first use, so `import etl.ingest` stays cheap for the CLI's start-up.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from etl.ingest.report import FileResult, IngestReport, RegistrationReport

if TYPE_CHECKING:
    from etl.ingest.loading import KINDS, load_registered
    from etl.ingest.registration import register_files
    from etl.settings import Settings

__all__ = ["register_files", "load_registered", "ingest", "FileResult", "IngestReport",
           "RegistrationReport", "KINDS"]

_LAZY = {"register_files": "etl.ingest.registration", "load_registered": "etl.ingest.loading",
         "KINDS": "etl.ingest.loading"}


def __getattr__(name: str):
    """`register_files`, `load_registered` and `KINDS`, imported on first access (PEP 562)."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ingest(raw_dir: Path | None = None, *, run_id: str | None = None, settings: Settings | None = None,
           batch_size: int | None = None, progress: bool = False) -> IngestReport:
    """Register every raw file, then load the CSV and the JSON ones: the whole bronze step."""
    from etl.ingest.loading import KINDS, load_registered
    from etl.ingest.progress import FileProgress
    from etl.ingest.registration import register_files
    from etl.settings import get_settings

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
    from etl import db
    from etl.ingest import ledger
    from etl.ingest.retry import with_retries

    def look() -> ledger.LogEntry | None:
        with db.connect(settings, autocommit=True) as conn:
            return ledger.settled(conn, pending.source_file, pending.sha256 or "")
    prior = with_retries(look, f"checking {pending.source_file}")
    if prior is None:
        return pending
    status = "skipped_duplicate" if prior.status == "loaded" else prior.status
    return FileResult(pending.source_file, pending.entity, status, 0, prior.encoding, prior.error,
                      prior.ingestion_id, pending.sha256)
