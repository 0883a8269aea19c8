"""Discovery: which raw files exist, which entity each one is, in contract order.

Only a file's base name is matched (case-insensitively), never a folder's; the
order is the byte order of the `/`-separated path relative to the raw dir, as
PostgreSQL's `COLLATE "C"` sorts it.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

# (pattern on the lower-cased base name, entity, format, compression)
PATTERNS: tuple[tuple[str, str, str, str | None], ...] = (
    ("users*.csv", "users", "csv", None),
    ("users*.csv.gz", "users", "csv", "gzip"),
    ("viewing_sessions*.csv", "viewing_sessions", "csv", None),
    ("viewing_sessions*.csv.gz", "viewing_sessions", "csv", "gzip"),
    ("content*.json", "content", "json", None),
    ("content*.json.gz", "content", "json", "gzip"),
    ("content*.jsonl", "content", "jsonl", None),
    ("content*.jsonl.gz", "content", "jsonl", "gzip"),
)


@dataclass(frozen=True)
class RawFile:
    """A file found under the raw dir, with what its name says about it."""

    path: Path
    source_file: str
    entity: str | None  # None: ignored
    file_format: str | None
    compression: str | None
    size: int
    mtime_ns: int

    @property
    def modified_at(self) -> datetime:
        return datetime.fromtimestamp(self.mtime_ns / 1e9, tz=timezone.utc)

    @property
    def kind(self) -> str | None:
        """'csv' or 'json': which loader takes it."""
        if self.file_format is None:
            return None
        return "csv" if self.file_format == "csv" else "json"


def classify(name: str) -> tuple[str, str, str | None] | None:
    """(entity, format, compression) for a base name, or None when it is not a raw file."""
    lowered = name.lower()
    for pattern, entity, fmt, compression in PATTERNS:
        if fnmatch.fnmatchcase(lowered, pattern):
            return entity, fmt, compression
    return None


def sort_key(source_file: str) -> bytes:
    """Byte order of the relative path (PostgreSQL COLLATE "C" on UTF-8)."""
    return source_file.encode("utf-8", "surrogateescape")


def discover(raw_dir: Path) -> list[RawFile]:
    """Every regular file under raw_dir (recursively), matched or not, in byte order of path."""
    raw_dir = Path(raw_dir)
    found: list[RawFile] = []
    for folder, _dirs, names in os.walk(raw_dir):
        for name in names:
            path = Path(folder) / name
            try:
                st = path.stat()
            except OSError:
                continue  # vanished or a broken link: nothing to ingest
            if not path.is_file():
                continue
            relative = path.relative_to(raw_dir).as_posix()
            match = classify(name)
            entity, fmt, compression = match if match else (None, None, None)
            found.append(RawFile(path, relative, entity, fmt, compression, st.st_size, st.st_mtime_ns))
    found.sort(key=lambda f: sort_key(f.source_file))
    return found
