"""gold.fact_viewing partitioned by month (migration 0510), on the real PostgreSQL.

A fresh init has it partitioned by range of session_date with only the DEFAULT partition;
the migration turns an existing table with rows into the partitioned one without a loss,
months outside 2000..2099 staying in the DEFAULT partition; a month's partition, when it
is created, takes that month's rows from the DEFAULT partition and gets the table's
indexes. (Partitions made by the pipeline and pruning: tests/console/test_console_gold_pruning.py.)
"""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from etl import db, schema

pytestmark = pytest.mark.integration


def _partitions(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid "
        "where i.inhparent = 'gold.fact_viewing'::regclass order by 1")]


def test_a_fresh_init_has_fact_viewing_partitioned_by_session_date(medallion_db):
    with db.connect(medallion_db) as conn:
        strategy, key = conn.execute(
            "select p.partstrat::text, a.attname from pg_partitioned_table p "
            "join pg_attribute a on a.attrelid = p.partrelid and a.attnum = p.partattrs[0] "
            "where p.partrelid = 'gold.fact_viewing'::regclass").fetchone()
        assert (strategy, key) == ("r", "session_date")
        assert _partitions(conn) == ["fact_viewing_default"]
        (bound,) = conn.execute(
            "select pg_get_expr(c.relpartbound, c.oid) from pg_class c "
            "where c.oid = 'gold.fact_viewing_default'::regclass").fetchone()
        assert bound == "DEFAULT"


def test_migration_0510_partitions_an_existing_table_with_its_rows(medallion_db, tmp_path,
                                                                   monkeypatch):
    earlier = tmp_path / "migrations"
    earlier.mkdir()
    for path in schema.migrations():
        if path.version < "0510":
            shutil.copy(path.paths[0], earlier)
    with db.connect(medallion_db, autocommit=True) as conn:
        for (name,) in conn.execute(
                "select nspname from pg_namespace where nspname in ('ops', 'bronze', 'silver', "
                "'gold')").fetchall():
            conn.execute(f"drop schema {name} cascade")
    monkeypatch.setattr(schema, "MIGRATIONS_DIR", earlier)
    schema.apply_migrations(medallion_db)
    days = [date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 28), date(2026, 4, 2),
            date(1999, 12, 31), date(2150, 6, 1)]  # the last two: outside 2000..2099
    with db.connect(medallion_db) as conn:
        (kind,) = conn.execute("select relkind::text from pg_class "
                               "where oid = 'gold.fact_viewing'::regclass").fetchone()
        assert kind == "r"
        for i, day in enumerate(days):
            conn.execute(
                "insert into gold.fact_viewing (session_id, user_id, content_id, started_at, "
                "session_date, device, watch_seconds) values (%s, 'u1', 'c1', %s, %s, 'tv', %s)",
                (f"s{i}", day, day, 60 * i))
        before = conn.execute("select * from gold.fact_viewing order by session_id").fetchall()
        conn.commit()

    monkeypatch.setattr(schema, "MIGRATIONS_DIR", schema.PROJECT_ROOT / "sql" / "migrations")
    assert "0510" in schema.apply_migrations(medallion_db)
    with db.connect(medallion_db) as conn:
        assert conn.execute("select * from gold.fact_viewing order by session_id").fetchall() == before
        assert _partitions(conn) == ["fact_viewing_2026_01", "fact_viewing_2026_02",
                                     "fact_viewing_2026_04", "fact_viewing_default"]
        outside = conn.execute("select session_date from gold.fact_viewing_default "
                               "order by 1").fetchall()
        assert [d for (d,) in outside] == [date(1999, 12, 31), date(2150, 6, 1)]
        # a row inserted by hand for a month without a partition waits in the default one,
        # and moves to its month when that partition is created
        conn.execute("insert into gold.fact_viewing (session_id, user_id, content_id, "
                     "started_at, session_date, device, watch_seconds) "
                     "values ('s9', 'u1', 'c1', '2026-03-05', '2026-03-05', 'tv', 1)")
        assert conn.execute("select gold.add_fact_viewing_partitions("
                            "array['2026-03-05', '2026-03-20', '1990-01-01']::date[])").fetchone() == (1,)
        assert conn.execute("select tableoid::regclass::text from gold.fact_viewing "
                            "where session_id = 's9'").fetchone() == ("gold.fact_viewing_2026_03",)
        (indexes,) = conn.execute("select count(*) from pg_indexes where schemaname = 'gold' "
                                  "and tablename = 'fact_viewing_2026_03'").fetchone()
        assert indexes == 7  # the key and the six indexes of the table
