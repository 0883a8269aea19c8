"""JSON documents streamed out of a `.json` array or a `.jsonl` file.

Each document comes with its exact source text (PostgreSQL parses that into
jsonb, so numbers keep their digits) and the parsed object (for MongoDB).
Anything that is not an array of objects, or one object per non-blank line,
raises JsonFormatError naming the document, line and column.
"""

from __future__ import annotations

import codecs
import json as stdjson
from dataclasses import dataclass
from typing import BinaryIO, Iterator

from bson.decimal128 import Decimal128

from etl.ingest.source import CHUNK

_INT64 = (-(1 << 63), (1 << 63) - 1)
_WS = " \t\r\n"


class JsonFormatError(ValueError):
    """The file is not an array of objects / one object per line; says where."""


@dataclass
class Document:
    source_row: int  # 1-based document number
    text: str  # the document exactly as written
    obj: dict


def _parse_int(text: str):
    value = int(text)
    # BSON has no integers beyond 64 bits; keep the digits exactly as a decimal.
    return value if _INT64[0] <= value <= _INT64[1] else Decimal128(text)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


_DECODER = stdjson.JSONDecoder(parse_int=_parse_int, parse_constant=_reject_constant)


def _kind(text: str, pos: int) -> str:
    ch = text[pos] if pos < len(text) else ""
    return {"[": "an array", '"': "a string", "t": "true", "f": "false", "n": "null",
            "": "the end of the file"}.get(ch, "a number" if ch in "-0123456789" else repr(ch))


class _Text:
    """A decoded text buffer over a byte stream that tracks absolute line numbers."""

    def __init__(self, stream: BinaryIO, encoding: str):
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8-sig" if encoding == "utf-8" else encoding)()
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.lines_before = 0  # newlines in text already dropped from buf

    def more(self) -> bool:
        """Read another block; False at end of file."""
        if self.eof:
            return False
        block = self._stream.read(CHUNK)
        if not block:
            self.eof = True
            self.buf += self._decoder.decode(b"", final=True)
            return False
        # Drop consumed text so memory stays flat.
        self.lines_before += self.buf.count("\n", 0, self.pos)
        self.buf = self.buf[self.pos:] + self._decoder.decode(block)
        self.pos = 0
        return True

    def skip_ws(self) -> str:
        """The next non-blank character ('' at end of file), pos left on it."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def where(self, pos: int | None = None) -> str:
        pos = self.pos if pos is None else pos
        line = self.lines_before + self.buf.count("\n", 0, pos) + 1
        col = pos - (self.buf.rfind("\n", 0, pos) + 1) + 1
        return f"line {line}, column {col}"

    def decode_object(self, number: int) -> tuple[str, dict]:
        """Decode the object starting at pos (reading more as needed)."""
        while True:
            try:
                obj, end = _DECODER.raw_decode(self.buf, self.pos)
            except (stdjson.JSONDecodeError, ValueError) as exc:
                if not self.eof and self.more():
                    continue
                if isinstance(exc, stdjson.JSONDecodeError):
                    detail = f"{exc.msg} at {self.where(exc.pos)}"
                else:
                    detail = f"{exc} (document starting at {self.where()})"
                if isinstance(exc, stdjson.JSONDecodeError) and (
                        exc.pos >= len(self.buf.rstrip(_WS)) or exc.msg.startswith("Unterminated")):
                    detail = (f"truncated: the file ends inside document {number} (it starts at {self.where()}; "
                              f"{exc.msg} at {self.where(exc.pos)})")
                raise JsonFormatError(f"document {number}: {detail}") from None
            text = self.buf[self.pos:end]
            self.pos = end
            return text, obj


def array_documents(stream: BinaryIO, encoding: str) -> Iterator[Document]:
    """Objects of the one top-level array of a `.json` file."""
    t = _Text(stream, encoding)
    ch = t.skip_ws()
    if ch != "[":
        raise JsonFormatError(f"{t.where()}: expected a JSON array of objects ('['), found {_kind(t.buf, t.pos)}")
    t.pos += 1
    number = 0
    ch = t.skip_ws()
    if ch == "]":
        t.pos += 1
    else:
        while True:
            number += 1
            if ch == "":
                raise JsonFormatError(f"truncated: the file ends before document {number} "
                                      f"({t.where()}); expected an object or ']'")
            if ch != "{":
                raise JsonFormatError(f"document {number} ({t.where()}): every array element must be "
                                      f"an object, found {_kind(t.buf, t.pos)}")
            text, obj = t.decode_object(number)
            yield Document(number, text, obj)
            ch = t.skip_ws()
            if ch == ",":
                t.pos += 1
                ch = t.skip_ws()
                continue
            if ch == "]":
                t.pos += 1
                break
            if ch == "":
                raise JsonFormatError(f"truncated: the file ends after document {number} "
                                      f"({t.where()}); expected ',' or ']'")
            raise JsonFormatError(f"{t.where()}: expected ',' or ']' after document {number}, "
                                  f"found {ch!r}")
    if t.skip_ws() != "":
        raise JsonFormatError(f"{t.where()}: unexpected text after the closing ']' of the array")


def line_documents(stream: BinaryIO, encoding: str) -> Iterator[Document]:
    """One object per non-blank line of a `.jsonl` file."""
    decoder = codecs.getincrementaldecoder("utf-8-sig" if encoding == "utf-8" else encoding)()
    number = 0
    line_no = 0
    rest = ""
    while True:
        block = stream.read(CHUNK)
        text = rest + decoder.decode(block, final=not block)
        lines = text.split("\n")
        rest = lines.pop() if block else ""
        for line in lines:
            line_no += 1
            body = line.rstrip("\r")
            lead = len(body) - len(body.lstrip(_WS))
            if lead == len(body):
                continue
            number += 1
            if body[lead] != "{":
                raise JsonFormatError(f"line {line_no}: every line must hold one JSON object, "
                                      f"found {_kind(body, lead)}")
            try:
                obj, end = _DECODER.raw_decode(body, lead)
            except stdjson.JSONDecodeError as exc:
                raise JsonFormatError(f"line {line_no}, column {exc.colno}: {exc.msg} "
                                      "(truncated or invalid JSON); expected one object per line") from None
            except ValueError as exc:
                raise JsonFormatError(f"line {line_no}: {exc}") from None
            trailing = body[end:]
            if trailing.strip(_WS):
                column = end + len(trailing) - len(trailing.lstrip(_WS)) + 1
                raise JsonFormatError(f"line {line_no}, column {column}: unexpected text after the "
                                      "object; expected one object per line")
            yield Document(number, body[lead:end], obj)
        if not block:
            return


def documents(stream: BinaryIO, file_format: str, encoding: str) -> Iterator[Document]:
    """The documents of a json or jsonl stream."""
    if file_format == "jsonl":
        return line_documents(stream, encoding)
    return array_documents(stream, encoding)


def check_start(stream: BinaryIO, file_format: str, encoding: str) -> None:
    """Cheap registration check: the first document starts where it should."""
    gen = documents(stream, file_format, encoding)
    try:
        next(gen, None)
    finally:
        gen.close()
