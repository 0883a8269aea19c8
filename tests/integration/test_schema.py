"""The schema as it stands: a fresh init equals the catalog snapshot, and databases from
the old migration history are recognised as at the baseline."""

from __future__ import annotations

import hashlib

import psycopg
import pytest

from etl import db, schema
from etl.errors import ConfigError
from etl.settings import get_settings
from tests.support import catalog

# The history that sql/schema/ squashed, as a database initialised before the squash
# records it (the checksums of those files do not matter to the baseline rule).
OLD_HISTORY = [
    ("0001", "layers"), ("0002", "ingestion_log"), ("0003", "bronze"), ("0004", "pipeline_runs"),
    ("0005", "bronze_brin"), ("0010", "ingestion_queue"), ("0100", "silver"),
    ("0101", "silver_parsing"), ("0102", "silver_parsing_inline"),
    ("0103", "silver_parsing_fast"), ("0110", "gold"), ("0111", "byte_order_keys"),
    ("0112", "parsing_raw_values"), ("0120", "model_runs"),
    ("0121", "record_entity_accounting"), ("0200", "quality"), ("0300", "task_runs"),
    ("0400", "console_audit"),
]


def _record_history(settings, rows) -> None:
    """Make the database's migration record say it was initialised by `rows`; the deltas
    above the baseline that it has applied stay recorded (their DDL is in the database)."""
    with db.transaction(settings) as conn:
        conn.execute("delete from ops.schema_migrations where version <= %s",
                     (schema.BASELINE_VERSION,))
        for version, name in rows:
            conn.execute(
                "insert into ops.schema_migrations (version, name, checksum) values (%s, %s, %s)",
                (version, name, hashlib.sha256(name.encode()).hexdigest()),
            )


def _catalog(settings) -> dict:
    with db.connect(settings) as conn:
        return catalog.dump(conn)


def test_fresh_init_catalog_equals_the_snapshot(template_db):
    with psycopg.connect(**get_settings().libpq_kwargs(template_db)) as conn:
        fresh = catalog.dump(conn)
    changes = catalog.diff(catalog.read_fixture(), fresh)
    assert not changes, (
        "a fresh init no longer produces tests/fixtures/schema_catalog.json. If the change is "
        "deliberate (a new delta), refresh it with `python -m tests.support.catalog --write` "
        "and review the diff:\n" + changes[:6000])


def test_database_from_the_old_history_is_at_the_baseline(medallion_db):
    before = _catalog(medallion_db)
    _record_history(medallion_db, OLD_HISTORY)
    assert schema.apply_migrations(medallion_db) == []
    assert _catalog(medallion_db) == before
    with db.connect(medallion_db) as conn:
        versions = [r[0] for r in conn.execute("select version from ops.schema_migrations")]
    deltas = [m.version for m in schema.migrations()]
    assert sorted(versions) == [v for v, _ in OLD_HISTORY] + deltas  # its history is left as it was


@pytest.mark.parametrize("history", [OLD_HISTORY, [("0400", "baseline")]],
                         ids=["old-history", "baseline"])
def test_a_delta_applies_on_top_of_the_baseline_once(medallion_db, tmp_path, monkeypatch, history):
    _record_history(medallion_db, history)
    (tmp_path / "9999_audit_note.sql").write_text(
        "alter table ops.console_audit add column note text;\n", encoding="utf-8")
    monkeypatch.setattr(schema, "MIGRATIONS_DIR", tmp_path)
    assert schema.apply_migrations(medallion_db) == ["9999"]
    assert schema.apply_migrations(medallion_db) == []
    with db.connect(medallion_db) as conn:
        (name,) = conn.execute(
            "select name from ops.schema_migrations where version = '9999'").fetchone()
        columns = [r[0] for r in conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'ops' and table_name = 'console_audit'")]
    assert name == "audit_note" and "note" in columns


def test_part_of_the_old_history_is_refused_not_guessed_at(medallion_db):
    _record_history(medallion_db, OLD_HISTORY[:12])
    with pytest.raises(ConfigError, match="but not 0400, the baseline"):
        schema.apply_migrations(medallion_db)


def test_every_timestamp_is_stored_as_timestamptz(template_db):
    # data-contract.md: all timestamps are stored as timestamptz in UTC. Bronze keeps the
    # raw text, so only typed columns count: none may be a timestamp without time zone.
    with psycopg.connect(**get_settings().libpq_kwargs(template_db)) as conn:
        typed = conn.execute(
            "select table_schema, data_type, count(*) from information_schema.columns "
            "where table_schema in ('bronze', 'silver', 'gold', 'ops') "
            "and data_type like 'timestamp%%' group by 1, 2 order by 1, 2").fetchall()
    assert typed and {t for _, t, _ in typed} == {"timestamp with time zone"}, typed
    assert {s for s, _, _ in typed} >= {"silver", "gold", "ops"}
