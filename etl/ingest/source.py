"""Raw bytes of a file: opening (gzip or not), hashing, and deciding the encoding.

One streaming pass hashes the bytes as stored and checks the decompressed text:
not empty, no NUL byte (binary data), valid UTF-8, else valid cp1252. The encoding
is decided per file: a file that is not valid UTF-8 anywhere is read as cp1252.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

CHUNK = 1 << 20  # 1 MiB blocks: large enough for COPY speed, small enough for flat memory
BOM = codecs.BOM_UTF8


class CountingReader(io.RawIOBase):
    """Reads a binary file, feeding an optional hash and counting the bytes consumed."""

    def __init__(self, raw: BinaryIO, digest=None, on_bytes: Callable[[int], None] | None = None):
        self._raw = raw
        self.digest = digest
        self.on_bytes = on_bytes
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._raw.readinto(buffer)
        if n:
            view = memoryview(buffer)[:n]
            if self.digest is not None:
                self.digest.update(view)
            self.consumed += n
            if self.on_bytes is not None:
                self.on_bytes(n)
        return n or 0

    def drain(self) -> None:
        """Read what is left (bytes after a gzip stream still belong to the file's hash)."""
        buffer = bytearray(CHUNK)
        while self.readinto(buffer):
            pass

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_raw(path: Path) -> BinaryIO:
    """The stored bytes of a raw file, unbuffered.

    Discovery hands over a path without symbolic links (see `discover`); refusing to
    follow one here (O_NOFOLLOW) means a file swapped for a link after discovery is
    an OSError, never a read of whatever the link points to.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    return open(fd, "rb", buffering=0)


def open_text_bytes(path: Path, compression: str | None, digest=None,
                    on_bytes: Callable[[int], None] | None = None) -> tuple[CountingReader, BinaryIO]:
    """(the counting reader of the stored bytes, a stream of the decompressed bytes)."""
    counter = CountingReader(open_raw(path), digest, on_bytes)
    buffered = io.BufferedReader(counter, CHUNK)
    if compression == "gzip":
        return counter, gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[return-value]
    return counter, buffered  # type: ignore[return-value]


def chunks(stream: BinaryIO, size: int = CHUNK) -> Iterator[bytes]:
    """The stream in blocks of `size` bytes."""
    while True:
        block = stream.read(size)
        if not block:
            return
        yield block


def position(lines_before: int, last_line_start: int, data: bytes, offset: int) -> tuple[int, int]:
    """(1-based line, 1-based byte column) of `offset` in `data`, given the lines before it."""
    line = lines_before + data.count(b"\n", 0, offset) + 1
    newline = data.rfind(b"\n", 0, offset)
    column = offset - newline if newline >= 0 else offset + last_line_start + 1
    return line, column


@dataclass
class Inspection:
    """What one pass over a file found."""

    sha256: str
    encoding: str | None = None
    error: str | None = None
    text_bytes: int = 0  # decompressed size
    # False when .error depends on a setting, not on the bytes alone (the size limit):
    # the rejection is then logged without the hash, so the file is judged again.
    verdict: bool = True


class _Tracker:
    """Line/column bookkeeping over consecutive blocks."""

    def __init__(self) -> None:
        self.lines = 0
        self.column_carry = 0  # bytes since the last newline, before the current block

    def where(self, block: bytes, offset: int) -> tuple[int, int]:
        return position(self.lines, self.column_carry, block, max(offset, 0))

    def advance(self, block: bytes) -> None:
        self.lines += block.count(b"\n")
        newline = block.rfind(b"\n")
        self.column_carry = len(block) - newline - 1 if newline >= 0 else self.column_carry + len(block)


def inspect(path: Path, compression: str | None, max_bytes: int | None = None) -> Inspection:
    """Hash the stored bytes and decide the encoding of the text; sets .error when unusable.

    A file whose text (decompressed) runs over `max_bytes` is not read further: a
    gzip bomb of valid rows would otherwise fill the disk of bronze.
    """
    digest = hashlib.sha256()
    try:
        counter, stream = open_text_bytes(path, compression, digest)
    except OSError as exc:
        return Inspection("", error=f"cannot be read: {exc.strerror or exc}")
    result = Inspection("")
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_error: str | None = None
    tracker = _Tracker()
    too_big = False
    try:
        with stream:
            for block in chunks(stream):
                if result.text_bytes == 0 and block[:2] in (b"\xff\xfe", b"\xfe\xff"):
                    result.error = "UTF-16 text (byte order mark at line 1): save the file as UTF-8"
                result.text_bytes += len(block)
                if max_bytes is not None and result.text_bytes > max_bytes:
                    too_big, result.verdict = True, False
                    what = "decompresses to" if compression else "holds"
                    result.error = (f"{what} more than {max_bytes:,} bytes, the limit "
                                    "INGEST_MAX_FILE_BYTES sets for one file: split the file, or "
                                    "raise the setting if it is genuine")
                    break
                nul = block.find(b"\x00")
                if nul >= 0 and result.error is None:
                    line, col = tracker.where(block, nul)
                    result.error = (f"NUL byte at line {line}, column {col}: PostgreSQL text cannot "
                                    "hold NUL characters, and bronze keeps values exactly as read, "
                                    "so the whole file is rejected; remove them (a file full of them "
                                    "is binary data, not UTF-8 or cp1252 text)")
                if utf8_error is None:
                    try:
                        utf8.decode(block)
                    except UnicodeDecodeError as exc:
                        line, col = tracker.where(block, exc.start)
                        utf8_error = f"line {line}, column {col}: byte 0x{block[max(exc.start, 0)]:02x}"
                tracker.advance(block)
            if utf8_error is None:
                try:
                    utf8.decode(b"", final=True)
                except UnicodeDecodeError:
                    utf8_error = f"line {tracker.lines + 1}: the file ends inside a UTF-8 character"
            if too_big:  # not read to the end: hash the rest of the stored bytes only
                result.sha256 = _finish_hash(path, digest, counter)
                return result
            counter.drain()
    except (OSError, EOFError, zlib.error) as exc:
        digest_hex = _finish_hash(path, digest, counter)
        what = "not a valid gzip file" if compression == "gzip" else "cannot be read"
        return Inspection(digest_hex, error=f"{what}: {exc}")
    result.sha256 = digest.hexdigest()
    if result.error:
        return result
    if result.text_bytes == 0:
        result.error = "empty file (0 bytes): expected a header row or a JSON document"
        return result
    if utf8_error is None:
        result.encoding = "utf-8"
        return result
    cp1252_error = _cp1252_error(path, compression)
    if cp1252_error is None:
        result.encoding = "cp1252"
    else:
        result.error = (f"neither UTF-8 ({utf8_error}) nor cp1252 ({cp1252_error}); "
                        "save the file as UTF-8")
    return result


def _finish_hash(path: Path, digest, counter: CountingReader) -> str:
    """The hash of the whole stored file even when decompression stopped half-way."""
    try:
        with open_raw(path) as raw:
            raw.seek(counter.consumed)
            for block in chunks(raw):
                digest.update(block)
    except OSError:
        pass
    return digest.hexdigest()


def _cp1252_error(path: Path, compression: str | None) -> str | None:
    """None when the decompressed text decodes as cp1252, else where it does not."""
    _counter, stream = open_text_bytes(path, compression)
    tracker = _Tracker()
    with stream:
        for block in chunks(stream):
            try:
                block.decode("cp1252")
            except UnicodeDecodeError as exc:
                line, col = tracker.where(block, exc.start)
                return f"line {line}, column {col}: byte 0x{block[exc.start]:02x} is undefined"
            tracker.advance(block)
    return None
