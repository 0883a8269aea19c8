"""A database session for one ingestion step: one autocommit connection, reopened after a drop."""

from __future__ import annotations

from pathlib import Path

import psycopg

from etl import db
from etl.errors import ConfigError
from etl.ingest.retry import with_retries
from etl.settings import Settings

# undefined_table, invalid_schema_name: the database was never initialised
_NO_SCHEMA = ("42P01", "3F000")


class Session:
    """One autocommit connection, reopened after a drop (retries call `.conn` again)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._conn: psycopg.Connection | None = None

    @property
    def conn(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
            self._conn = db.connect(self.settings, autocommit=True)
        return self._conn

    def require_schema(self) -> None:
        """Raise ConfigError (run `medallion init`) unless the ingestion tables exist."""
        def probe() -> None:
            try:
                self.conn.execute("select 1 from ops.ingestion_log limit 0")
                self.conn.execute("select 1 from ops.ingestion_queue limit 0")
            except psycopg.Error as exc:
                missing = schema_missing(exc, self.settings)
                if missing is None:
                    raise
                raise missing from None
        with_retries(probe, "checking the schema")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def raw_root(raw_dir: Path | None, settings: Settings, *, within_raw_data_path: bool = False) -> Path:
    """The raw folder of this run, symbolic links resolved: `raw_dir` when given, else
    RAW_DATA_PATH; it must exist.

    With `within_raw_data_path`, `raw_dir` must resolve inside RAW_DATA_PATH (a relative one
    is taken relative to it): a request from the console or the REST API names a sub-folder
    of the landing folder, never another part of the file system.
    """
    if raw_dir is not None and within_raw_data_path:
        return confined_raw_dir(raw_dir, settings)
    root = Path(raw_dir).expanduser().resolve() if raw_dir is not None else settings.raw_dir()
    if not root.is_dir():
        raise ConfigError(f"raw data folder {root} does not exist: set RAW_DATA_PATH or pass --raw-dir")
    return root


def confined_raw_dir(raw_dir: Path | str, settings: Settings) -> Path:
    """`raw_dir` resolved, when it is RAW_DATA_PATH or a folder inside it; else ConfigError."""
    base = settings.raw_dir()
    requested = Path(raw_dir).expanduser()
    root = (base / requested).resolve()  # an absolute `requested` replaces `base`
    if not root.is_relative_to(base):
        raise ConfigError(f"raw_dir {str(raw_dir)!r} resolves to {root}, outside RAW_DATA_PATH "
                          f"({base}): name RAW_DATA_PATH or a folder inside it")
    if not root.is_dir():
        raise ConfigError(f"raw_dir {str(raw_dir)!r} ({root}) is not a folder inside RAW_DATA_PATH "
                          f"({base})")
    return root


def schema_missing(exc: BaseException, settings: Settings) -> ConfigError | None:
    """The one-line error for a database without the medallion schema, or None for other errors."""
    if not isinstance(exc, psycopg.Error) or exc.sqlstate not in _NO_SCHEMA:
        return None
    reason = exc.diag.message_primary or str(exc).strip()
    return ConfigError(f"database {settings.postgres_db!r} has no medallion schema yet ({reason}): "
                       "run `medallion init` first")
