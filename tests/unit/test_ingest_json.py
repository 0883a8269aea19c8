"""JSON / JSONL streaming (offline): documents, exact text, and errors that say where."""

import io
import json

import pytest

from etl.ingest import json as jsonload
from etl.ingest.json import JsonFormatError, documents


def docs(data: bytes, fmt="json", encoding="utf-8"):
    return [(d.source_row, d.text, d.obj) for d in documents(io.BytesIO(data), fmt, encoding)]


def test_array_documents_keep_their_exact_text(monkeypatch):
    monkeypatch.setattr(jsonload, "CHUNK", 3)  # every document spans block boundaries
    data = '\ufeff [ {"content_id": 10, "d": 1.50, "t": "é, ]"} ,\n{"x": [1, {"y": null}]} ]\n'.encode()
    assert docs(data) == [(1, '{"content_id": 10, "d": 1.50, "t": "é, ]"}', {"content_id": 10, "d": 1.5, "t": "é, ]"}),
                          (2, '{"x": [1, {"y": null}]}', {"x": [1, {"y": None}]})]


def test_jsonl_skips_blank_lines_and_counts_documents(monkeypatch):
    monkeypatch.setattr(jsonload, "CHUNK", 4)
    data = b'{"a": 1}\r\n\n   \n{"b": "\xc3\xa9"}\n{"c": 3}'
    assert [(r, o) for r, _, o in docs(data, "jsonl")] == [(1, {"a": 1}), (2, {"b": "é"}), (3, {"c": 3})]


def test_cp1252_json():
    assert docs('[{"t": "Zé – “x”"}]'.encode("cp1252"), encoding="cp1252")[0][2] == {"t": "Zé – “x”"}


def test_large_array_streams(monkeypatch):
    monkeypatch.setattr(jsonload, "CHUNK", 1000)
    items = [{"content_id": i, "title": "t" * (i % 50)} for i in range(5000)]
    assert [o for _, _, o in docs(json.dumps(items).encode())] == items


@pytest.mark.parametrize("data, fmt, message", [
    (b"", "json", "expected a JSON array of objects ('['), found the end of the file"),
    (b'{"a": 1}', "json", "line 1, column 1: expected a JSON array of objects"),
    (b'[{"a": 1},\n "x"]', "json", "document 2 (line 2, column 2): every array element must be an object, found a string"),
    (b'[{"a": 1}, [1]]', "json", "every array element must be an object, found an array"),
    (b'[{"a": 1}, {"b": ', "json", "truncated: the file ends inside document 2"),
    (b'[{"a": 1}', "json", "truncated: the file ends after document 1"),
    (b'[{"a": 1},', "json", "truncated: the file ends before document 2"),
    (b'[{"a": 1}] x', "json", "unexpected text after the closing ']'"),
    (b'[{"a": 1} {"b": 2}]', "json", "expected ',' or ']' after document 1"),
    (b'[{"a": Infinity}]', "json", "Infinity is not valid JSON"),
    (b'{"a": 1}\n\n42\n', "jsonl", "line 3: every line must hold one JSON object, found a number"),
    (b'{"a": 1}\n{"a": \n', "jsonl", "line 2, column 7: Expecting value"),
    (b'{"a": 1} {"b": 2}\n', "jsonl", "line 1, column 10: unexpected text after the object"),
])
def test_errors_say_which_document_and_where(data, fmt, message):
    with pytest.raises(JsonFormatError) as err:
        docs(data, fmt)
    assert message in str(err.value)
