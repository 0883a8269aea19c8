"""Whose fault a failure is: the file's (rejected) or a service's (raised, maybe retried)."""

from __future__ import annotations

import zlib

import psycopg
import pytest
from bson.errors import InvalidDocument
from psycopg import errors as pgerrors
from pymongo.errors import (AutoReconnect, BulkWriteError, DocumentTooLarge, OperationFailure,
                            ServerSelectionTimeoutError)

from etl.errors import ConfigError, RejectedFile, ServiceUnavailable
from etl.ingest.faults import describe, is_file_fault, is_verdict
from etl.ingest.header import CsvFormatError
from etl.ingest.json import JsonFormatError

FILE_FAULTS = [
    CsvFormatError("x"), JsonFormatError("x"), RejectedFile("x"), UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"),
    UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), EOFError("truncated"),
    OSError(2, "No such file or directory"), zlib.error("bad data"), RecursionError("deep"),
    OverflowError("MongoDB can only handle up to 8-byte ints"), MemoryError(),
    InvalidDocument("key must not contain NUL"), DocumentTooLarge("17 MB"),
    BulkWriteError({"writeErrors": [{"index": 0, "code": 2, "errmsg": "bad _id"}]}),
    psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"),
    pgerrors.UntranslatableCharacter("22P05"), pgerrors.ProgramLimitExceeded("54000"),
    TypeError("a bug, or the file"),
]
SERVICE_FAULTS = [
    ServiceUnavailable("PostgreSQL at 127.0.0.1:5432 does not answer"), ConfigError("set X"),
    psycopg.OperationalError("connection refused"), pgerrors.UndefinedTable("no ops.ingestion_log"),
    pgerrors.InsufficientPrivilege("42501"), pgerrors.AdminShutdown("57P01"),
    AutoReconnect("primary gone"), ServerSelectionTimeoutError("no server"),
    OperationFailure("not authorized", code=13),
    BulkWriteError({"writeErrors": [], "writeConcernErrors": [{"code": 64, "errmsg": "wtimeout"}]}),
]


@pytest.mark.parametrize("exc", FILE_FAULTS, ids=lambda e: type(e).__name__)
def test_what_reading_or_loading_a_file_raises_is_the_files_fault(exc):
    assert is_file_fault(exc)
    assert describe(exc)


@pytest.mark.parametrize("exc", SERVICE_FAULTS, ids=lambda e: type(e).__name__)
def test_a_service_that_is_down_or_misconfigured_is_never_the_files_fault(exc):
    assert not is_file_fault(exc)


def test_interrupts_are_nobodys_file_fault():
    assert not is_file_fault(KeyboardInterrupt()) and not is_file_fault(SystemExit(1))


def test_an_unexpected_failure_is_no_verdict_on_the_bytes_and_says_so():
    assert is_verdict(JsonFormatError("x")) and is_verdict(RecursionError())
    bug = TypeError("unhashable type: 'dict'")
    assert not is_verdict(bug)
    assert describe(bug) == ("TypeError: unhashable type: 'dict' (an unexpected failure: the file is "
                             "judged again on the next run)")


def test_describe_names_what_mongodb_refused():
    exc = BulkWriteError({"writeErrors": [{"index": 0, "code": 2, "errmsg": "_id fields may not hold $x"}]})
    assert describe(exc) == "MongoDB refused a document: _id fields may not hold $x"
