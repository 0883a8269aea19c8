"""Layer schemas generator (the original `layerSchemasGenerator` / `dag_1`).

DDL lives in `sql/migrations/NNNN_name.sql`, applied once each in file-name order
and recorded in `ops.schema_migrations` with a checksum, so later changes migrate
forward without dropping data. `init` is idempotent: a second run applies nothing.
The MongoDB collection `bronze_content_json` and its indexes are created too.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from etl import db
from etl.errors import ConfigError
from etl.settings import PROJECT_ROOT, Settings, get_settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = PROJECT_ROOT / "sql" / "migrations"
MONGO_COLLECTION = "bronze_content_json"
# Concurrent `init`s (two DAG runs, CLI + Airflow) serialise on this advisory lock.
_LOCK_KEY = 7_041_979_001


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration file, in application order."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        version, _, name = path.stem.partition("_")
        if not version.isdigit():
            raise ConfigError(f"migration {path.name} must be named NNNN_description.sql")
        found.append(Migration(version, name, path))
    return found


def apply_migrations(settings: Settings | None = None) -> list[str]:
    """Apply pending migrations, each in its own transaction; returns the applied versions."""
    applied_now: list[str] = []
    with db.connect(settings, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute("create schema if not exists ops")
            conn.execute(
                """create table if not exists ops.schema_migrations (
                       version    text primary key,
                       name       text not null,
                       checksum   text not null,
                       applied_at timestamptz not null default now())"""
            )
            done = {row[0]: row[1] for row in
                    conn.execute("select version, checksum from ops.schema_migrations")}
            for migration in migrations():
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        log.warning("migration %s changed after it was applied; "
                                    "add a new migration instead of editing it", migration.path.name)
                    continue
                with conn.transaction():
                    conn.execute(migration.sql)
                    conn.execute(
                        "insert into ops.schema_migrations (version, name, checksum) values (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                log.info("applied migration %s", migration.path.name)
                applied_now.append(migration.version)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now


def init_mongo(settings: Settings | None = None) -> None:
    """Create `bronze_content_json` and the indexes the loader and the console filter on."""
    settings = settings or get_settings()
    client = db.mongo_client(settings)
    try:
        database = client[settings.mongo_db]
        if MONGO_COLLECTION not in database.list_collection_names():
            database.create_collection(MONGO_COLLECTION)
        coll = database[MONGO_COLLECTION]
        # One document per (ingestion, row): re-running a load never duplicates it.
        coll.create_index([("ingestion_id", 1), ("source_row", 1)], unique=True,
                          name="ingestion_row_uq")
        coll.create_index([("content_id", 1)], name="content_id_idx")
        coll.create_index([("source_file", 1)], name="source_file_idx")
    finally:
        client.close()


def init(settings: Settings | None = None, mongo: bool = True) -> list[str]:
    """Create every schema, table, index and the MongoDB collection; idempotent."""
    settings = settings or get_settings()
    db.ensure_database(settings)
    applied = apply_migrations(settings)
    if mongo:
        init_mongo(settings)
    return applied
