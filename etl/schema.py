"""Layer schemas generator (the original `layerSchemasGenerator` / `dag_1`).

The schema is kept as it stands, plus the changes made since:

- **Baseline**: `sql/schema/<file>.sql`, current-state DDL with every object defined
  once in its final form: one file per schema (`ops`, `bronze`, `silver`, `gold`) and
  `parsing.sql` for silver's parsing functions, applied in `BASELINE_FILES` order (ops
  first, then each layer; the parsing functions after the silver schema exists). An
  empty database gets the whole baseline in one transaction, recorded in
  `ops.schema_migrations` as version `BASELINE_VERSION` ('0400') named 'baseline',
  with the checksum of the files.
- **Deltas**: `sql/migrations/NNNN_description.sql`, numbered above the baseline,
  applied once each in file-name order on top of it, each in its own transaction and
  recorded with its checksum. A change to an existing database is a new delta; editing
  an applied file only logs a warning (it does not re-run).

`init` is idempotent: a second run applies nothing. Concurrent runs serialise on an
advisory lock.

Why the baseline is '0400': it is the catalog that the old history `0001`..`0400`
produced (`tests/fixtures/schema_catalog.json` was taken from it before the squash, and
`tests/integration/test_schema.py` holds a fresh init to it). A database initialised
by that history has `0400` recorded already, so "version 0400 is recorded" means "at
the baseline" for old and new databases alike, with no rewriting of their history:
the old rows (0001..0400, names as they were) stay as the record of how that database
got there, and only deltas above 0400 are applied to it. A database that records
some versions but not 0400 (part of the old history, or deltas without a baseline)
is refused with a ConfigError rather than guessed at.

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

SCHEMA_DIR = PROJECT_ROOT / "sql" / "schema"
MIGRATIONS_DIR = PROJECT_ROOT / "sql" / "migrations"
# Application order: each file needs only what the files before it create.
BASELINE_FILES = ("ops", "bronze", "silver", "parsing", "gold")
BASELINE_VERSION = "0400"
BASELINE_NAME = "baseline"
MONGO_COLLECTION = "bronze_content_json"
# Concurrent `init`s (two DAG runs, CLI + Airflow) serialise on this advisory lock.
_LOCK_KEY = 7_041_979_001


@dataclass(frozen=True)
class Migration:
    """A unit of DDL applied once and recorded: the baseline (several files) or a delta."""

    version: str
    name: str
    paths: tuple[Path, ...]

    @property
    def sql(self) -> str:
        return "\n".join(path.read_text(encoding="utf-8") for path in self.paths)

    @property
    def checksum(self) -> str:
        digest = hashlib.sha256()
        for path in self.paths:
            digest.update(path.read_bytes())
        return digest.hexdigest()

    @property
    def label(self) -> str:
        return ", ".join(_shown(path) for path in self.paths)


def _shown(path: Path) -> str:
    """A path relative to the project when it is inside it."""
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def baseline(directory: Path | None = None) -> Migration:
    """The current-state DDL of every schema, as one migration."""
    directory = directory or SCHEMA_DIR
    paths = tuple(directory / f"{stem}.sql" for stem in BASELINE_FILES)
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        raise ConfigError(f"baseline file(s) {', '.join(missing)} missing from {directory}")
    return Migration(BASELINE_VERSION, BASELINE_NAME, paths)


def migrations(directory: Path | None = None) -> list[Migration]:
    """Every delta above the baseline, in application order."""
    directory = directory or MIGRATIONS_DIR
    found = []
    for path in sorted(directory.glob("*.sql")):
        version, _, name = path.stem.partition("_")
        if not (version.isdigit() and len(version) == len(BASELINE_VERSION) and name):
            raise ConfigError(f"migration {path.name} must be named NNNN_description.sql")
        if version <= BASELINE_VERSION:
            raise ConfigError(
                f"migration {path.name} is numbered at or below the baseline {BASELINE_VERSION}: "
                f"the schema up to it is sql/schema/; number a delta {int(BASELINE_VERSION) + 1:04d} "
                f"or above")
        found.append(Migration(version, name, (path,)))
    return found


def _pending(recorded: dict[str, tuple[str, str]]) -> list[Migration]:
    """What a database with these recorded {version: (name, checksum)} still needs."""
    base = baseline()
    if BASELINE_VERSION not in recorded:
        if recorded:
            raise ConfigError(
                "ops.schema_migrations records versions "
                f"{', '.join(sorted(recorded))} but not {BASELINE_VERSION}, the baseline: this "
                "database was initialised part-way by an older release. Finish its migration "
                "with that release, or drop the database and run `medallion init`.")
        pending = [base]
    else:
        name, checksum = recorded[BASELINE_VERSION]
        if name == BASELINE_NAME and checksum != base.checksum:
            log.warning("sql/schema/ changed after this database was initialised from it; "
                        "changes to an existing database belong in a new sql/migrations delta")
        pending = []
    for delta in migrations():
        if delta.version in recorded:
            if recorded[delta.version][1] != delta.checksum:
                log.warning("migration %s changed after it was applied; "
                            "add a new migration instead of editing it", delta.label)
            continue
        pending.append(delta)
    return pending


def _apply(conn, migration: Migration) -> None:
    """Run one migration and record it, in one transaction."""
    with conn.transaction():
        conn.execute(migration.sql)
        conn.execute(
            "insert into ops.schema_migrations (version, name, checksum) values (%s, %s, %s)",
            (migration.version, migration.name, migration.checksum),
        )
    log.info("applied migration %s (%s)", migration.version, migration.label)


def apply_migrations(settings: Settings | None = None) -> list[str]:
    """Apply the baseline to an empty database, then pending deltas; returns the versions
    applied now (each in its own transaction)."""
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
            recorded = {version: (name, checksum) for version, name, checksum in
                        conn.execute("select version, name, checksum from ops.schema_migrations")}
            for migration in _pending(recorded):
                _apply(conn, migration)
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
