"""Hashing and encoding decisions (offline)."""

import gzip
import hashlib

import pytest

from etl.ingest.source import inspect


LATE_CP1252 = ("é\n" * 100000 + "\n").encode("utf-8") + "ü".encode("cp1252")


@pytest.mark.parametrize("data, encoding", [
    ("a,b\nJosé,“x”\n".encode("utf-8"), "utf-8"),
    (b"\xef\xbb\xbfa,b\n", "utf-8"),
    ("a,b\nJosé,“x”\n".encode("cp1252"), "cp1252"),
    # valid UTF-8 for the first 300 kB: the file as a whole is still not UTF-8
    (LATE_CP1252, "cp1252"),
], ids=["utf-8", "bom", "cp1252", "late-cp1252"])
def test_encoding_is_decided_per_file(tmp_path, data, encoding):
    path = tmp_path / "users.csv"
    path.write_bytes(data)
    result = inspect(path, None)
    assert result.error is None
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.encoding == encoding


def test_neither_utf8_nor_cp1252_names_the_line_and_byte(tmp_path):
    path = tmp_path / "users.csv"
    path.write_bytes(b"a,b\nok,ok\nbad,\x9d\xff\n")
    result = inspect(path, None)
    assert result.encoding is None
    assert "line 3, column 5: byte 0x9d" in result.error and "save the file as UTF-8" in result.error


def test_empty_nul_and_gzip(tmp_path):
    empty = tmp_path / "users.csv"
    empty.write_bytes(b"")
    assert "empty file (0 bytes)" in inspect(empty, None).error
    gz_empty = tmp_path / "users.csv.gz"
    gz_empty.write_bytes(gzip.compress(b""))
    assert "empty file" in inspect(gz_empty, "gzip").error
    binary = tmp_path / "viewing_sessions.csv"
    binary.write_bytes(b"ab\ncd\x00")
    assert "NUL byte at line 2, column 3" in inspect(binary, None).error
    gz = tmp_path / "content.json.gz"
    gz.write_bytes(gzip.compress("[{\"a\": \"é\"}]".encode()))
    result = inspect(gz, "gzip")
    assert (result.error, result.encoding) == (None, "utf-8")
    assert result.sha256 == hashlib.sha256(gz.read_bytes()).hexdigest()  # the bytes as stored
    truncated = tmp_path / "users_t.csv.gz"
    truncated.write_bytes(gzip.compress(b"a,b\n" * 1000)[:-20])
    assert "not a valid gzip file" in inspect(truncated, "gzip").error


def test_utf16_is_named_as_such(tmp_path):
    path = tmp_path / "users.csv"
    path.write_bytes("user_id,email\n".encode("utf-16"))
    assert inspect(path, None).error == "UTF-16 text (byte order mark at line 1): save the file as UTF-8"
