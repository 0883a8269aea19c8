"""The worked example (shared/spec/worked-example.md) landed in increments, each followed by
an incremental transform, gives the tables of the worked example landed in one go.

Increments in an unkind order: the sessions first (every one an orphan), then the users
(orphan_user sessions come back, orphan_content ones stay), then the content. Ingestion ids
differ between the two databases, so the tables are compared without that column; every
other column, lineage included, must match."""

from __future__ import annotations

import shutil
import uuid

import psycopg
from tests.support.incremental import TABLES, model_runs
from psycopg import sql
from tests.support.transform import fetch

from etl import db, schema
from etl.ingest import ingest
from etl.transform import transform


def _tables(settings) -> dict[str, list[str]]:
    return {name: [r["row"] for r in fetch(
        settings, f"select (to_jsonb(t) - 'ingestion_id')::text as row from {name} as t "
                  f"order by 1")] for name in TABLES}


def test_worked_example_in_increments_equals_in_one_go(medallion_db, worked_example_dir,
                                                       tmp_path, template_db):
    landing = tmp_path / "landing"
    landing.mkdir()
    for step, name in enumerate(["viewing_sessions.csv", "users.csv", "content.json"]):
        shutil.copy(worked_example_dir / name, landing / name)
        ingest(landing, settings=medallion_db)
        transform(run_id=f"step-{step}")
        modes = {r["mode"] for r in model_runs(medallion_db, f"step-{step}").values()}
        assert modes == ({"full"} if step == 0 else {"incremental"})
    incremental = _tables(medallion_db)
    assert len(incremental["gold.fact_viewing"]) == 3

    other = f"medallion_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(**medallion_db.libpq_kwargs("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("create database {} template {}").format(
            sql.Identifier(other), sql.Identifier(template_db)))
    one_go = medallion_db.model_copy(update={"postgres_db": other, "mongo_db": other})
    try:
        schema.init_mongo(one_go)
        ingest(worked_example_dir, settings=one_go)
        transform(settings=one_go)
        assert _tables(one_go) == incremental
    finally:
        client = db.mongo_client(one_go)
        client.drop_database(other)
        client.close()
        with psycopg.connect(**medallion_db.libpq_kwargs("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(other)))
