"""Discovery: which raw files exist, which entity each one is, in contract order.

Only a file's base name is matched (case-insensitively), never a folder's; the
order is the byte order of the `/`-separated path relative to the raw dir, as
PostgreSQL's `COLLATE "C"` sorts it.

Only files inside the raw dir are read. A symbolic link, to a file or a folder, that
resolves inside it is followed; one that resolves outside it, or back into a folder
it lies in (a loop), is reported as ignored with the reason and never read. A file
is handed on under its resolved path, so the loaders never follow a link themselves.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
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
    ignored_because: str | None = None  # set: never read, logged as ignored with this reason

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


OUTSIDE = ("a symbolic link that resolves outside the raw folder: only files inside "
           "RAW_DATA_PATH are read")
LOOP = "a symbolic link loop (it leads back to itself or to a folder it lies in): not followed"
BAD_NAME = "its path is not valid UTF-8, which source_file cannot hold: rename it"


def _relative(path: str, root: str) -> tuple[str, bool]:
    """(the `/`-separated path relative to root, whether it is valid UTF-8).

    A name that is not UTF-8 is spelled with backslash escapes, so it can still be logged.
    """
    relative = Path(os.path.relpath(path, root)).as_posix()
    try:
        relative.encode("utf-8")
        return relative, True
    except UnicodeEncodeError:
        return os.fsencode(relative).decode("utf-8", "backslashreplace"), False


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _ignored(path: str, root: str, reason: str) -> RawFile | None:
    """An entry logged as ignored, described by the link itself (its target is never read)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None  # gone meanwhile
    relative, _ok = _relative(path, root)
    return RawFile(Path(path), relative, None, None, None, st.st_size, st.st_mtime_ns, reason)


def _folders(root: str, found: list[RawFile]) -> list[tuple[str, str]]:
    """(walked path, resolved path) of every folder to search, links inside followed.

    A folder link is followed only when it resolves inside root and not to a folder on
    its own way down from root, which would be a loop; the others are added to `found`
    as ignored.
    """
    folders = [(root, root)]
    stack = [(root, (root,))]
    while stack:
        walked, chain = stack.pop()
        try:
            entries = sorted(os.scandir(walked), key=lambda e: e.name)
        except OSError:
            continue  # vanished or unreadable: nothing to ingest there
        for entry in entries:
            try:
                if not entry.is_dir():  # follows links: a link to a folder is a folder
                    continue
            except OSError:
                continue
            real = os.path.realpath(entry.path)
            if entry.is_symlink():
                reason = OUTSIDE if not _inside(real, root) else LOOP if real in chain else None
                if reason is not None:
                    ignored = _ignored(entry.path, root, reason)
                    if ignored is not None:
                        found.append(ignored)
                    continue
            folders.append((entry.path, real))
            stack.append((entry.path, (*chain, real)))
    return folders


def _file(path: str, root: str, via_link: bool) -> RawFile | None:
    """The RawFile for one directory entry, or None when there is nothing there to ingest."""
    name = os.path.basename(path)
    try:
        is_link = os.path.islink(path)
        real = os.path.realpath(path) if is_link or via_link else path
        if (is_link or via_link) and not _inside(real, root):
            return _ignored(path, root, OUTSIDE)
        st = os.stat(real, follow_symlinks=False)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _ignored(path, root, LOOP)
        return None  # vanished or a broken link: nothing to ingest
    if stat.S_ISLNK(st.st_mode):  # realpath stopped at a link: it loops (or changed meanwhile)
        return _ignored(path, root, LOOP)
    if not stat.S_ISREG(st.st_mode):
        return None  # a folder, a pipe, a device: nothing to ingest
    relative, readable_name = _relative(path, root)
    if not readable_name:
        return RawFile(Path(real), relative, None, None, None, st.st_size, st.st_mtime_ns, BAD_NAME)
    match = classify(name)
    entity, fmt, compression = match if match else (None, None, None)
    return RawFile(Path(real), relative, entity, fmt, compression, st.st_size, st.st_mtime_ns)


def discover(raw_dir: Path) -> list[RawFile]:
    """Every regular file under raw_dir (recursively), matched or not, in byte order of path.

    `raw_dir` is resolved first (RAW_DATA_PATH may itself be a link); see the module
    docstring for the links below it.
    """
    root = os.path.realpath(raw_dir)
    found: list[RawFile] = []
    for walked, real in _folders(root, found):
        via_link = real != walked  # below a followed link: every file's target is checked
        try:
            names = sorted(e.name for e in os.scandir(walked) if not _is_folder(e))
        except OSError:
            continue
        for name in names:
            raw_file = _file(os.path.join(walked, name), root, via_link)
            if raw_file is not None:
                found.append(raw_file)
    found.sort(key=lambda f: sort_key(f.source_file))
    return found


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False
