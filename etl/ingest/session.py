"""A database session for one ingestion step: one autocommit connection, reopened after a drop."""

from __future__ import annotations

from pathlib import Path

import psycopg

from etl import db
from etl.errors import ConfigError
from etl.settings import Settings


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

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def raw_root(raw_dir: Path | None, settings: Settings) -> Path:
    """The raw folder of this run: `raw_dir` when given, else RAW_DATA_PATH; it must exist."""
    root = Path(raw_dir).expanduser().resolve() if raw_dir is not None else settings.raw_dir()
    if not root.is_dir():
        raise ConfigError(f"raw data folder {root} does not exist: set RAW_DATA_PATH or pass --raw-dir")
    return root
