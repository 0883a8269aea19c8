"""Helpers for the incremental tests: every silver and gold table's checksum, the latest
accounting, and the same for a full refresh of the same bronze in a clone of the database.
Collected by pytest but holds no tests itself."""

from __future__ import annotations

import uuid

import psycopg
from psycopg import sql
from tests.support.transform import checksum, fetch

from etl.settings import Settings
from etl.transform import GOLD_TABLES, SILVER_TABLES, transform

# The contract's tables, and the companions the incremental gold keeps beside them.
TABLES = ([f"silver.{t}" for t in SILVER_TABLES] + [f"gold.{t}" for t in GOLD_TABLES]
          + ["gold.genre_viewers", "gold.user_engagement_totals",
             "gold.content_performance_totals", "gold.daily_viewing_totals"])


def accounting(settings: Settings) -> dict[str, tuple]:
    """The latest recorded identity per entity."""
    rows = fetch(settings, """
        select distinct on (entity) entity, bronze_rows, silver_rows, superseded_rows,
               rejected_rows, rejected_by_reason
        from ops.entity_accounting order by entity, measured_at desc""")
    return {r["entity"]: (r["bronze_rows"], r["silver_rows"], r["superseded_rows"],
                          r["rejected_rows"], r["rejected_by_reason"]) for r in rows}


def independent_accounting(settings: Settings) -> dict[str, tuple]:
    """bronze, silver and rejected rows counted in the tables themselves."""
    out = {}
    for entity in ("users", "viewing_sessions", "content"):
        row = fetch(settings, f"""
            select (select count(*) from bronze.{entity}) as bronze,
                   (select count(*) from silver.{entity}) as silver,
                   (select count(*) from silver.{entity}_rejected) as rejected""")[0]
        out[entity] = (row["bronze"], row["silver"], row["rejected"])
    return out


def state(settings: Settings) -> dict[str, object]:
    """Checksums of every table plus the accounting: what must equal a full refresh."""
    result: dict[str, object] = {name: checksum(settings, name) for name in TABLES}
    result["accounting"] = accounting(settings)
    return result


def _admin(settings: Settings) -> psycopg.Connection:
    return psycopg.connect(**settings.libpq_kwargs("postgres"), autocommit=True)


def full_refresh_state(settings: Settings) -> dict[str, object]:
    """The state a full refresh of the same bronze gives, computed in a throwaway clone so
    that the incrementally maintained database goes on untouched."""
    clone = f"{settings.postgres_db}_f{uuid.uuid4().hex[:6]}"
    with _admin(settings) as conn:
        conn.execute(sql.SQL("create database {} template {}").format(
            sql.Identifier(clone), sql.Identifier(settings.postgres_db)))
    try:
        copy = settings.model_copy(update={"postgres_db": clone})
        transform(full_refresh=True, settings=copy)
        return state(copy)
    finally:
        with _admin(settings) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(clone)))


def assert_equals_full_refresh(settings: Settings) -> dict[str, object]:
    """Table by table, the incremental state equals a full refresh; the identity holds
    against counts taken in the tables. Returns the state."""
    incremental = state(settings)
    full = full_refresh_state(settings)
    differing = [k for k in full if incremental.get(k) != full[k]]
    assert not differing, f"incremental differs from a full refresh in {differing}: " \
                          f"{ {k: (incremental.get(k), full[k]) for k in differing} }"
    counted = independent_accounting(settings)
    for entity, (bronze, silver, superseded, rejected, _) in incremental["accounting"].items():
        assert bronze == silver + superseded + rejected, entity
        assert (bronze, silver, rejected) == counted[entity], entity
    return incremental


def model_runs(settings: Settings, run_id: str) -> dict[str, dict]:
    """The model runs of one transform, by model."""
    return {r["model"]: r for r in fetch(
        settings, "select model, mode, status, rows, rows_read, rows_changed "
                  "from ops.model_runs where run_id = %s", (run_id,))}
