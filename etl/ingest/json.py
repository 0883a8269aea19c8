"""JSON documents streamed out of a `.json` array or a `.jsonl` file.

Each document comes with its exact source text (PostgreSQL parses that into
jsonb, so numbers keep their digits) and the parsed object (for MongoDB).
Anything that is not an array of objects, or one object per non-blank line,
raises JsonFormatError naming the document, line and column.

Valid JSON that one of the two copies cannot hold rejects the file too, with the
reason: a document nested deeper than MongoDB's 100 levels (or too deep for the
parser at all), and a string holding `\u0000`, which PostgreSQL jsonb refuses.
Numbers BSON cannot hold (integers beyond 64 bits, exponents beyond a double) are
valid content and load: jsonb keeps them as numbers, the MongoDB copy holds them as
Decimal128 when that is exact, else as the literal's text.
"""

from __future__ import annotations

import codecs
import decimal
import json as stdjson
import math
import sys
from dataclasses import dataclass
from typing import BinaryIO, Iterator

from bson.decimal128 import Decimal128

from etl.ingest.source import CHUNK

_INT64 = (-(1 << 63), (1 << 63) - 1)
_WS = " \t\r\n"
# MongoDB stores no document nested deeper than this (each object or array is a level).
MAX_DEPTH = 100


class JsonFormatError(ValueError):
    """The file is not an array of objects / one object per line; says where."""


@dataclass
class Document:
    source_row: int  # 1-based document number
    text: str  # the document exactly as written
    obj: dict


def _parse_int(text: str):
    # Never int() a long literal: past 4,300 digits Python refuses to convert it at all.
    if len(text) - text.startswith("-") <= 19:
        value = int(text)
        if _INT64[0] <= value <= _INT64[1]:
            return value
    return _wide(text)  # BSON has no integers beyond 64 bits


def _parse_float(text: str):
    value = float(text)
    mantissa = text.lower().split("e")[0]
    if math.isinf(value) or (value == 0.0 and mantissa.strip("-0.") != ""):
        return _wide(text)  # beyond a double's range: it would become infinity or zero
    return value


def _wide(text: str):
    """A number BSON's int64 and double cannot hold: Decimal128 when exact, else its text."""
    try:
        return Decimal128(text)
    except decimal.DecimalException:  # more than 34 digits, or an exponent beyond +-6143
        return text


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


_DECODER = stdjson.JSONDecoder(parse_int=_parse_int, parse_float=_parse_float,
                               parse_constant=_reject_constant)


def _too_deep(number: int, where: str) -> JsonFormatError:
    return JsonFormatError(
        f"document {number} ({where}): nested deeper than the JSON parser goes (about "
        f"{sys.getrecursionlimit():,} levels); the MongoDB copy holds at most {MAX_DEPTH} levels")


def _depth(obj) -> int:
    """Levels of nesting, the document itself being level 1 (MongoDB's count); no recursion."""
    deepest = 0
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        for child in (value.values() if isinstance(value, dict) else value):
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return deepest


def _nul_field(obj) -> str | None:
    """The path of the first key or string holding NUL, if any (`title`, `cast[2].name`)."""
    stack = [(obj, "")]
    while stack:
        value, path = stack.pop()
        items = value.items() if isinstance(value, dict) else (
            (f"[{i}]", v) for i, v in enumerate(value))
        for key, child in items:
            inner = f"{path}.{key}" if path and isinstance(value, dict) else f"{path}{key}"
            if isinstance(value, dict) and "\x00" in key:
                return inner.replace("\x00", "\\u0000")
            if isinstance(child, str) and "\x00" in child:
                return inner.replace("\x00", "\\u0000")
            if isinstance(child, (dict, list)):
                stack.append((child, inner))
    return None


def _check(number: int, where: str, text: str, obj: dict) -> None:
    """Reject what PostgreSQL jsonb or MongoDB cannot hold; the cheap counts spare the walks."""
    if text.count("{") + text.count("[") > MAX_DEPTH:
        depth = _depth(obj)
        if depth > MAX_DEPTH:
            raise JsonFormatError(f"document {number} ({where}) is nested {depth} levels deep; the "
                                  f"MongoDB copy (bronze_content_json) holds at most {MAX_DEPTH}")
    if "\\u0000" in text:
        field = _nul_field(obj)
        if field is not None:
            raise JsonFormatError(
                f"document {number} ({where}): field {field} holds \\u0000 (a NUL character), which "
                "PostgreSQL jsonb cannot store; remove it (bronze keeps documents exactly as read)")


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
            except RecursionError:
                raise _too_deep(number, f"starting at {self.where()}") from None
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
            _check(number, self.where(), text, obj)
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
            except RecursionError:
                raise _too_deep(number, f"line {line_no}") from None
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
            _check(number, f"line {line_no}", body[lead:end], obj)
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
