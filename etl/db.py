"""Engines and connections: the only place a database connection is opened.

PostgreSQL through psycopg 3 (COPY streaming) and SQLAlchemy 2 (pandas, console);
MongoDB through pymongo. Every connection failure becomes one clear line naming
the host, port and the variable to set.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

import psycopg
from psycopg import sql

from etl.errors import ServiceUnavailable
from etl.settings import Settings, get_settings

if TYPE_CHECKING:  # imported lazily: they cost ~0.8 s at every CLI start
    import pymongo
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

# Every session runs in UTC so that no result depends on the server's TimeZone;
# the SQL models are also written not to depend on it.
_SESSION_OPTIONS = "-c TimeZone=UTC"


def postgres_unavailable(settings: Settings, exc: Exception) -> ServiceUnavailable:
    """The one-line error for an unreachable PostgreSQL."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "does not exist" in reason and "database" in reason:
        return ServiceUnavailable(
            f"PostgreSQL at {settings.postgres_host}:{settings.postgres_port} has no database "
            f"{settings.postgres_db!r}: run `medallion init` to create it, or set POSTGRES_DB."
        )
    return ServiceUnavailable(
        f"PostgreSQL at {settings.postgres_host}:{settings.postgres_port} "
        f"(database {settings.postgres_db!r}, user {settings.postgres_user!r}) is unreachable: "
        f"{reason}. Set POSTGRES_HOST / POSTGRES_PORT (and POSTGRES_USER / POSTGRES_PASSWORD), "
        "or run `medallion services up`."
    )


def mongo_unavailable(settings: Settings, exc: Exception) -> ServiceUnavailable:
    """The one-line error for an unreachable MongoDB."""
    reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return ServiceUnavailable(
        f"MongoDB at {settings.mongo_address} is unreachable: {reason}. "
        "Set MONGO_URI (or MONGO_HOST / MONGO_PORT), or run `medallion services up`."
    )


def pg_login(settings: Settings, database: str) -> str | None:
    """None when PostgreSQL accepts a login to `database`, else the reason."""
    try:
        conn = psycopg.connect(**settings.libpq_kwargs(database))
    except psycopg.OperationalError as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else "refused"
    conn.close()
    return None


def ensure_database(settings: Settings) -> bool:
    """Create POSTGRES_DB on the server when it does not exist; True when created."""
    if pg_login(settings, settings.postgres_db) is None:
        return False
    for maintenance_db in ("postgres", "template1"):
        if pg_login(settings, maintenance_db) is None:
            break
    else:
        return False
    with psycopg.connect(**settings.libpq_kwargs(maintenance_db), autocommit=True) as conn:
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (settings.postgres_db,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(settings.postgres_db)))
            log.info("created database %s", settings.postgres_db)
            return True
    return False


def connect(settings: Settings | None = None, *, database: str | None = None,
            autocommit: bool = False) -> psycopg.Connection:
    """A new psycopg 3 connection in UTC; raises ServiceUnavailable with the fix."""
    settings = settings or get_settings()
    try:
        return psycopg.connect(
            **settings.libpq_kwargs(database), options=_SESSION_OPTIONS, autocommit=autocommit
        )
    except psycopg.OperationalError as exc:
        raise postgres_unavailable(settings, exc) from exc


@contextmanager
def transaction(settings: Settings | None = None) -> Iterator[psycopg.Connection]:
    """A connection whose work commits on success and rolls back on any error."""
    conn = connect(settings)
    try:
        with conn.transaction():
            yield conn
    finally:
        conn.close()


_engines: dict[str, "Engine"] = {}


def engine(settings: Settings | None = None) -> "Engine":
    """A pooled SQLAlchemy engine (psycopg 3 driver) per DSN, in UTC."""
    from sqlalchemy import create_engine

    settings = settings or get_settings()
    url = settings.sqlalchemy_url()
    if url not in _engines:
        _engines[url] = create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"options": _SESSION_OPTIONS, "connect_timeout": 5},
        )
    return _engines[url]


def check_postgres(settings: Settings | None = None) -> None:
    """Raise ServiceUnavailable unless PostgreSQL accepts a login to the configured database."""
    conn = connect(settings)
    conn.close()


def mongo_client(settings: Settings | None = None, timeout_ms: int = 5000) -> "pymongo.MongoClient":
    """A pymongo client for the configured server (checked with a ping)."""
    import pymongo
    from pymongo.errors import PyMongoError

    settings = settings or get_settings()
    client = pymongo.MongoClient(
        settings.mongo_uri_value,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        tz_aware=True,
    )
    try:
        client.admin.command("ping")
    except PyMongoError as exc:
        client.close()
        raise mongo_unavailable(settings, exc) from exc
    return client


def mongo_database(settings: Settings | None = None):
    """The configured MongoDB database (MONGO_DB)."""
    settings = settings or get_settings()
    return mongo_client(settings)[settings.mongo_db]
