"""The console's date filters prune the monthly partitions of gold.fact_viewing.

On the real PostgreSQL, after the real pipeline: one partition per month present, and the
console's queries over the facts, asked for one month, scan that month's partition only,
whether PostgreSQL plans them for the bound dates (what the console does) or generically
(a prepared statement), where the other months are removed when the executor starts
("Subplans Removed"). The partitions themselves: tests/integration/test_fact_viewing_partitions.py.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import psycopg
import psycopg.sql
import pytest
from sqlalchemy import text

from console.data import gold
from etl import db, pipeline, synth

pytestmark = pytest.mark.integration

# Every console query that reads gold.fact_viewing (the others read aggregate tables), through
# gold.filtered_facts: SQL functions PostgreSQL inlines, so the dates still prune.
FACT_QUERIES = (gold.GOLD_FILTERED_TOP_CONTENT_BY_VIEWS, gold.GOLD_FILTERED_TOP_CONTENT_BY_HOURS,
                gold.GOLD_FILTERED_GENRES)


def _partitions(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid "
        "where i.inhparent = 'gold.fact_viewing'::regclass order by 1")]


def _scanned(plan: dict) -> tuple[set[str], int]:
    """The fact_viewing partitions a JSON plan reads, and its 'Subplans Removed' total."""
    relations, removed = set(), 0
    stack = [plan]
    while stack:
        node = stack.pop()
        if str(node.get("Relation Name", "")).startswith("fact_viewing"):
            relations.add(node["Relation Name"])
        removed += node.get("Subplans Removed", 0)
        stack.extend(node.get("Plans", []))
    return relations, removed


def _explain(conn, query: gold.Query, params: dict) -> dict:
    """The plan of a console query as the console sends it (planned for the bound values)."""
    row = conn.execute(text("explain (format json) " + query.sql.text), params).scalar_one()
    return (row if isinstance(row, list) else json.loads(row))[0]["Plan"]


def _explain_generic(conn: psycopg.Connection, query: gold.Query, params: dict) -> dict:
    """The plan of the query prepared once for any values (psycopg prepares a statement
    the console repeats; PostgreSQL may then keep a generic plan), executed with these."""
    names: list[str] = []

    def placeholder(match: re.Match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    body = re.sub(r"(?<![:\w]):([a-z_]+)", placeholder, query.sql.text)
    conn.execute("set plan_cache_mode = force_generic_plan")
    conn.execute(f"prepare console_query as {body}")
    try:
        args = psycopg.sql.SQL(", ").join(psycopg.sql.Literal(params[n]) for n in names)
        (row,) = conn.execute(psycopg.sql.SQL("explain (format json) execute console_query ({})")
                              .format(args)).fetchone()
    finally:
        conn.execute("deallocate console_query")
        conn.execute("reset plan_cache_mode")
    return row[0]["Plan"]


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    out = tmp_path_factory.mktemp("gold-pruning-raw")
    synth.generate(out, users=200, sessions=3000, contents=60, days=75, seed=5, dirty_rate=0.02)
    return out


def test_console_fact_queries_scan_only_the_selected_months(medallion_db, raw):
    assert pipeline.run(raw, settings=medallion_db, run_id="pruning", checks=False).status == "success"
    with db.connect(medallion_db) as conn:
        months = [r[0] for r in conn.execute(
            "select distinct date_trunc('month', session_date::timestamp)::date "
            "from gold.fact_viewing order by 1")]
        assert len(months) >= 3  # 75 days span three months at least
        assert _partitions(conn) == sorted(
            ["fact_viewing_default"] + [f"fact_viewing_{m:%Y_%m}" for m in months])
        assert conn.execute("select count(*) from gold.fact_viewing_default").fetchone()[0] == 0
        first, last = conn.execute(
            "select min(session_date), max(session_date) from gold.fact_viewing").fetchone()

    middle = months[1]
    end_of_middle = (middle + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    one_month = gold.KpiFilter(middle, end_of_middle, first_date=first, last_date=last)
    everything = gold.KpiFilter(first, last, devices=("mobile", "tv", "web", "tablet"),
                                first_date=first, last_date=last)
    assert not one_month.is_empty and not everything.is_empty  # the console reads the facts
    all_months = {f"fact_viewing_{m:%Y_%m}" for m in months}

    with db.engine(medallion_db).connect() as conn, db.connect(medallion_db) as raw_conn:
        for query in FACT_QUERIES:
            params = {**one_month.segment_params(), "limit": 10}
            # as the console runs it: planned for the bound dates
            assert _scanned(_explain(conn, query, params)) == ({f"fact_viewing_{middle:%Y_%m}"}, 0), \
                query.name
            # planned once for any dates: the executor removes the other partitions at start
            relations, removed = _scanned(_explain_generic(raw_conn, query, params))
            assert relations == {f"fact_viewing_{middle:%Y_%m}"}, query.name
            assert removed == len(months), query.name  # the other months and the default
            # the whole range: every month, never the default partition
            relations, _ = _scanned(_explain(conn, query, {**everything.segment_params(), "limit": 10}))
            assert relations == all_months, query.name
