"""Retries (offline): transient failures back off exponentially; others surface at once."""

import psycopg
import pytest

from etl.errors import RejectedFile
from etl.ingest.retry import with_retries


def test_transient_failures_are_retried_with_exponential_backoff():
    sleeps, calls = [], []

    def work():
        calls.append(1)
        if len(calls) < 3:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return "done"

    assert with_retries(work, "x", sleep=sleeps.append) == "done"
    assert sleeps == [0.5, 1.0]


def test_serialization_failure_is_transient_but_bounded():
    sleeps = []

    def work():
        raise psycopg.errors.SerializationFailure("could not serialize access")

    with pytest.raises(psycopg.errors.SerializationFailure):
        with_retries(work, "x", attempts=4, sleep=sleeps.append)
    assert sleeps == [0.5, 1.0, 2.0]


def test_terminal_errors_are_not_retried():
    sleeps = []

    def work():
        raise RejectedFile("bad")

    with pytest.raises(RejectedFile):
        with_retries(work, "x", sleep=sleeps.append)
    assert sleeps == []
