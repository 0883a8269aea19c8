"""Helpers for the silver/gold tests: load bronze rows directly (no ingestion code), run
the models, read tables back. Collected by pytest but holds no tests itself."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from pathlib import Path

import pytest
from psycopg.types.json import Jsonb

from etl import db

USER_COLUMNS = ["user_id", "email", "full_name", "country", "signup_date", "subscription_tier",
                "birth_year", "updated_at"]
SESSION_COLUMNS = ["session_id", "user_id", "content_id", "started_at", "ended_at",
                   "watch_seconds", "device"]
COLUMNS = {"users": USER_COLUMNS, "viewing_sessions": SESSION_COLUMNS}
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "worked_example"


def approx(value):
    """The contract's tolerance for numbers: relative 1e-6, absolute 1e-9 near zero."""
    return pytest.approx(value, rel=1e-6, abs=1e-9)


def session_row(session_id, user_id, content_id, started_at, watch_seconds, device="tv") -> dict:
    """One bronze viewing_sessions row with watch_seconds given and no ended_at."""
    return {"session_id": session_id, "user_id": user_id, "content_id": content_id,
            "started_at": started_at, "ended_at": "", "watch_seconds": str(watch_seconds),
            "device": device}


def load_bronze(settings, entity: str, source_file: str, rows: list) -> int:
    """Insert rows as one loaded file of `entity`; returns its ingestion_id.

    users / viewing_sessions rows are dicts (missing columns become '') or tuples in the
    required column order; content rows are the documents (dicts, or any JSON value).
    """
    with db.connect(settings) as conn:
        ingestion_id = conn.execute(
            "insert into ops.ingestion_log (source_file, sha256, entity, status, rows_loaded, "
            "encoding, finished_at) values (%s, %s, %s, 'loaded', %s, 'utf-8', now()) "
            "returning ingestion_id",
            (source_file, hashlib.sha256(uuid.uuid4().bytes).hexdigest(), entity, len(rows)),
        ).fetchone()[0]
        with conn.cursor() as cur:
            if entity == "content":
                cur.executemany(
                    "insert into bronze.content (doc, ingestion_id, source_file, source_row) "
                    "values (%s, %s, %s, %s)",
                    [(Jsonb(doc), ingestion_id, source_file, i) for i, doc in enumerate(rows, 1)])
            else:
                columns = COLUMNS[entity]
                values = []
                for i, row in enumerate(rows, 1):
                    if isinstance(row, dict):
                        row = tuple(row.get(c, "") for c in columns)
                    values.append((*row, ingestion_id, source_file, i))
                cur.executemany(
                    f"insert into bronze.{entity} ({', '.join(columns)}, ingestion_id, "
                    f"source_file, source_row) values ({', '.join(['%s'] * (len(columns) + 3))})",
                    values)
        conn.commit()
    return ingestion_id


def read_csv_rows(path: Path) -> list[tuple]:
    """Data rows of a CSV file exactly as read (no trimming)."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        return [tuple(r) for r in reader if r]


def load_worked_example(settings) -> None:
    """The three files of worked-example.md, in byte order of their paths."""
    load_bronze(settings, "content", "content.json",
                json.loads((FIXTURES / "content.json").read_text(encoding="utf-8")))
    load_bronze(settings, "users", "users.csv", read_csv_rows(FIXTURES / "users.csv"))
    load_bronze(settings, "viewing_sessions", "viewing_sessions.csv",
                read_csv_rows(FIXTURES / "viewing_sessions.csv"))


def fetch(settings, query: str, params=()) -> list[dict]:
    """Rows of a query as dicts."""
    with db.connect(settings) as conn:
        cur = conn.execute(query, params)
        names = [d.name for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def table(settings, name: str, order_by: str) -> list[dict]:
    return fetch(settings, f"select * from {name} order by {order_by}")


def checksum(settings, name: str) -> str:
    """An order-independent checksum of a table's contents (lineage columns included)."""
    return fetch(settings, f"select md5(coalesce(string_agg(md5(t::text), '' order by md5(t::text)), '')) "
                           f"as c from {name} as t")[0]["c"]


def write_csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()
