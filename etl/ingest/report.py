"""What an ingestion did, file by file: the results the CLI prints and the DAGs pass on."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class FileResult:
    """The outcome for one raw file (one row of the CLI table)."""

    source_file: str
    entity: str | None
    status: str  # loaded | skipped_duplicate | rejected | ignored | pending
    rows_loaded: int = 0
    encoding: str | None = None
    error: str | None = None
    ingestion_id: int | None = None
    sha256: str | None = None


@dataclass
class IngestReport:
    """Every file an ingestion looked at, in the order it handled them."""

    files: list[FileResult] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files if f.status == "loaded")

    @property
    def loaded(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "loaded"]

    @property
    def rejected(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "rejected"]

    @property
    def rows_by_entity(self) -> dict[str, int]:
        """Rows loaded per entity (users, viewing_sessions, content)."""
        counts: Counter[str] = Counter()
        for f in self.loaded:
            counts[f.entity or ""] += f.rows_loaded
        return dict(counts)

    def status_of(self, source_file: str) -> FileResult | None:
        """The last result for source_file, if any."""
        for f in reversed(self.files):
            if f.source_file == source_file:
                return f
        return None


@dataclass
class RegistrationReport(IngestReport):
    """Registration outcome: settled files plus what is queued for each loader."""

    pending_csv: list[str] = field(default_factory=list)
    pending_json: list[str] = field(default_factory=list)
