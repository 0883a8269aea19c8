"""Shared plumbing of the console's data modules: the engine, cached reads, outages.

Every query of `console.data` is a named `Query` constant holding a `sqlalchemy.text()`
with bind parameters; nothing is built from user input. Results are cached with
`st.cache_data(ttl=...)` keyed by the database (host, port, name, user), the query's
name and its parameters, so two databases never share a cache; the engine is an
`st.cache_resource`. An unreachable database becomes `DataUnavailable` with a message
that says what to fix, so a page can say so plainly and keep rendering the rest.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import pandas as pd
import psycopg
import streamlit as st
from sqlalchemy import Engine, TextClause, text
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError

from etl import LAYERS, db  # noqa: F401  (LAYERS re-exported for pages)
from etl.errors import ServiceUnavailable
from etl.settings import get_settings

log = logging.getLogger(__name__)

TTL_OPS_SECONDS = 30
TTL_GOLD_SECONDS = 120

_PING = text("select 1")


class DataUnavailable(ServiceUnavailable):
    """The database cannot answer the console; the message says what to fix."""


@dataclass(frozen=True)
class Query:
    """One console query: `name` keys the cache and the logs, `sql` is a constant text()."""

    name: str
    sql: TextClause


def _db_key() -> str:
    """Identifies the database without its password (cache key, never shown)."""
    s = get_settings()
    return f"{s.postgres_user}@{s.postgres_host}:{s.postgres_port}/{s.postgres_db}"


@st.cache_resource(show_spinner=False)
def _engine(db_key: str) -> Engine:
    """The pooled engine for one database (db_key only keys the cache)."""
    return db.engine(get_settings())


def _unavailable(exc: Exception) -> DataUnavailable:
    if isinstance(exc.orig, psycopg.errors.UndefinedTable):
        first = str(exc.orig).strip().splitlines()[0]
        return DataUnavailable(f"The database has no console tables yet ({first}). "
                               "Run `medallion init` to create them.")
    return DataUnavailable(str(db.postgres_unavailable(get_settings(), exc.orig or exc)))


def _handled(exc: Exception) -> bool:
    """Outages and a missing schema become DataUnavailable; anything else is a bug to show."""
    return isinstance(exc, (OperationalError, InterfaceError)) or \
        isinstance(getattr(exc, "orig", None), psycopg.errors.UndefinedTable)


def _execute(conn, query: Query, params: dict):
    """The one place console SQL runs: a Query's text() constant with bound parameters."""
    if not isinstance(query.sql, TextClause):
        raise TypeError(f"query {query.name} must be a sqlalchemy text() constant")
    return conn.execute(query.sql, params)


def _run(db_key: str, query: Query, params: dict) -> pd.DataFrame:
    try:
        with _engine(db_key).connect() as conn:
            result = _execute(conn, query, params)
            frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    except (OperationalError, InterfaceError, ProgrammingError) as exc:
        if not _handled(exc):
            raise
        raise _unavailable(exc) from exc
    log.debug("query %s returned %d rows", query.name, len(frame))
    return frame


# The leading underscore keeps `_query` out of the cache key: the name stands for it.
@st.cache_data(ttl=TTL_OPS_SECONDS, show_spinner=False)
def _read_ops(db_key: str, name: str, _query: Query, params: dict) -> pd.DataFrame:
    return _run(db_key, _query, params)


@st.cache_data(ttl=TTL_GOLD_SECONDS, show_spinner=False)
def _read_gold(db_key: str, name: str, _query: Query, params: dict) -> pd.DataFrame:
    return _run(db_key, _query, params)


def read_ops(query: Query, **params) -> pd.DataFrame:
    """Run an `ops` query, cached for TTL_OPS_SECONDS."""
    return _read_ops(_db_key(), query.name, query, params)


def read_gold(query: Query, **params) -> pd.DataFrame:
    """Run a `gold` query, cached for TTL_GOLD_SECONDS (gold changes once per run)."""
    return _read_gold(_db_key(), query.name, query, params)


def clear_caches() -> None:
    """Forget every cached result (the Refresh button, and after an action); this includes
    the other console.data caches (observability), so it clears all of st.cache_data."""
    st.cache_data.clear()


def ping() -> None:
    """Raise DataUnavailable unless the database answers (not cached)."""
    try:
        with _engine(_db_key()).connect() as conn:
            conn.execute(_PING)
    except (OperationalError, InterfaceError) as exc:
        raise _unavailable(exc) from exc


# ------------------------------------------------------------------ value helpers

def as_array(values) -> list[str] | None:
    """A filter value as a bind parameter: None means no filter."""
    values = [v for v in (values or ()) if v is not None]
    return values or None


def int_or_none(value) -> int | None:
    """An integer, or None for a missing value (None, NaN, NA)."""
    return None if value is None or pd.isna(value) else int(value)


def as_dict(value) -> dict:
    """A jsonb value (dict, JSON text or nothing) as a dict."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {"value": loaded}
    return {}
