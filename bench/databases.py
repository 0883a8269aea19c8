"""What the pipeline benchmarks share: a throwaway database per measurement, and ingestion."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import psycopg
from psycopg import sql

from etl import db, schema, synth
from etl.settings import get_settings, reset_settings

log = logging.getLogger("bench")


def admin_connection():
    """An autocommit connection to the server's maintenance database."""
    return psycopg.connect(**get_settings().libpq_kwargs("postgres"), autocommit=True)


def use_database(name: str) -> None:
    """Point the settings (PostgreSQL and MongoDB) at database `name`."""
    os.environ["POSTGRES_DB"] = name
    os.environ["MONGO_DB"] = name
    reset_settings()


def fresh_database(name: str) -> None:
    """Drop and create `name`, point the settings at it, and apply the schema."""
    with admin_connection() as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    use_database(name)
    schema.apply_migrations()


def drop_database(name: str, mongo: bool = True) -> None:
    """Drop `name` in PostgreSQL (and, with `mongo`, in MongoDB)."""
    with admin_connection() as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    if not mongo:
        return
    try:
        client = db.mongo_client(get_settings())
        client.drop_database(name)
        client.close()
    except Exception as exc:  # noqa: BLE001 - clean-up of a benchmark: report and go on
        log.warning("could not drop MongoDB database %s: %s", name, exc)


def ingest(raw: Path) -> float:
    """`medallion ingest` of `raw` in this process; returns the seconds it took."""
    from etl.ingest import ingest as run_ingest

    started = time.perf_counter()
    report = run_ingest(raw, settings=get_settings())
    if report.rejected:
        raise SystemExit(f"ingestion rejected files: {[f.source_file for f in report.rejected]}")
    return time.perf_counter() - started


def generated_database(name: str, raw: Path, *, sessions: int, users: int, contents: int) -> dict:
    """Generate raw files into `raw` (90 days, seed 42, 2% dirty), ingest them into a fresh
    database `name` and point the settings at it; returns the seconds of both steps."""
    started = time.perf_counter()
    synth.generate(raw, users=users, sessions=sessions, contents=contents, days=90, seed=42,
                   dirty_rate=0.02)
    generate_s = time.perf_counter() - started
    fresh_database(name)
    return {"generate_s": generate_s, "ingest_s": ingest(raw)}
