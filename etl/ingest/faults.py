"""Whose fault a failure is: the file's, so the file is rejected, or a service's, so it is raised.

Whatever reading, decoding, parsing or loading one file raises is that file's
rejection (contract section 1: a bad file is rejected whole, every other file
still loads), with two exceptions that must stay errors of the run, retryable or
terminal: a service that is unwell or misconfigured (PostgreSQL or MongoDB down,
a missing schema, a refused login), and an interrupt (KeyboardInterrupt,
SystemExit are not `Exception`s and are never caught here).

Most rejections are verdicts on the file's bytes, recorded with its hash so the same
bytes are not read again. A failure of a kind no reader raises on purpose (a
TypeError, say) may be a bug of ours as much as the file's: it rejects the file all
the same, so nothing stalls, but without a verdict on the bytes (`is_verdict` is
False), so the file is judged again on the next run, after the bug is fixed.
"""

from __future__ import annotations

import logging
import zlib

import psycopg
from bson.errors import BSONError
from pymongo.errors import BulkWriteError, DocumentTooLarge, PyMongoError, WriteError

from etl.errors import MedallionError, RejectedFile

log = logging.getLogger(__name__)

# SQLSTATE class 22 is bad data, class 54 a program limit the file exceeds (too many
# columns, a row too large, nesting too deep for the parser's stack).
_DATA_CLASSES = ("22", "54")


def is_file_fault(exc: BaseException) -> bool:
    """True when the file, not a service, is at fault: it is rejected, not retried or raised."""
    if isinstance(exc, RejectedFile):
        return True
    if isinstance(exc, MedallionError):  # ServiceUnavailable, ConfigError, ...
        return False
    if isinstance(exc, psycopg.Error):
        # psycopg raises DataError itself, without an SQLSTATE, for values it cannot send.
        return isinstance(exc, psycopg.DataError) or (exc.sqlstate or "")[:2] in _DATA_CLASSES
    if isinstance(exc, BulkWriteError):
        # A document the server refused; a write-concern failure alone is the server's.
        return bool((exc.details or {}).get("writeErrors"))
    if isinstance(exc, (WriteError, DocumentTooLarge)):
        return True
    if isinstance(exc, PyMongoError):  # connection, auth, timeouts: the service
        return False
    # Anything else came out of reading or converting the file's bytes: a parser's
    # RecursionError, an OverflowError of a number BSON cannot hold, a decoding error,
    # an OSError of the file itself, a MemoryError on a monstrous value.
    return isinstance(exc, Exception)


# What the readers and the services raise about a file's content.
_VERDICTS = (ValueError, OSError, EOFError, ArithmeticError, RecursionError, MemoryError,
             zlib.error, psycopg.Error, PyMongoError, BSONError)


def is_verdict(exc: BaseException) -> bool:
    """True when a file fault says something about the file's bytes (see the module doc)."""
    return isinstance(exc, (RejectedFile, *_VERDICTS))


def describe(exc: BaseException) -> str:
    """The error text a person reads: PostgreSQL's primary message, not its context dump."""
    if isinstance(exc, psycopg.Error) and exc.diag.message_primary:
        detail = exc.diag.message_detail
        return exc.diag.message_primary + (f" ({detail})" if detail else "")
    if isinstance(exc, BulkWriteError):
        errors = (exc.details or {}).get("writeErrors") or [{}]
        return f"MongoDB refused a document: {errors[0].get('errmsg') or exc}"[:1000]
    text = str(exc).strip()
    if isinstance(exc, (ValueError, OSError, EOFError)) and text:
        return text[:1000]
    # Not one of the errors the readers raise on purpose: name its type so it can be found.
    name = type(exc).__name__
    described = f"{name}: {text[:1000]}" if text else name
    if not is_verdict(exc):
        described += " (an unexpected failure: the file is judged again on the next run)"
    return described
