"""A normalised dump of a database's catalog, to prove the schema is what it was.

`tests/fixtures/schema_catalog.json` holds the catalog of a database initialised by
`etl.schema.apply_migrations` (the baseline in `sql/schema/` plus every delta in
`sql/migrations/`). `tests/integration/test_schema.py` initialises a fresh database
and asserts its catalog equals the fixture, object for object.

Tests only read the fixture. After a deliberate schema change (a new delta), refresh it
with the explicit command, and review the diff like code:

    python -m tests.support.catalog --write      # rewrite the fixture
    python -m tests.support.catalog              # print the fresh catalog's differences

What is compared: schemas, relations (tables, views, sequences, indexes) with their
kind, persistence and options; columns in order with type, collation, nullability,
default, identity and generation; constraints (pg_get_constraintdef); indexes
(pg_get_indexdef); functions (pg_get_functiondef, which spells out language,
volatility, strictness, parallel safety, security and settings, plus those attributes
as fields of their own); views (pg_get_viewdef); sequences; triggers; user-defined
types; extensions; comments. Not compared: owners, privileges, OIDs and column
numbers (dropped columns leave gaps), which say nothing about the schema's meaning.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import uuid
from pathlib import Path

import psycopg
import psycopg.rows
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "schema_catalog.json"

# Schemas that belong to PostgreSQL itself, not to the project.
_SYSTEM = "n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'"

_QUERIES: dict[str, str] = {
    "schemas": f"""
        select n.nspname as name from pg_namespace n where {_SYSTEM} order by 1""",
    "relations": f"""
        select n.nspname || '.' || c.relname as name, c.relkind::text as kind,
               c.relpersistence::text as persistence, c.reloptions as options,
               am.amname as access_method
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        left join pg_am am on am.oid = c.relam
        where {_SYSTEM} and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f', 'i', 'I')
        order by 1""",
    "columns": f"""
        select n.nspname || '.' || c.relname as relation,
               row_number() over (partition by c.oid order by a.attnum) as position,
               a.attname as name, format_type(a.atttypid, a.atttypmod) as type,
               case when a.attcollation <> t.typcollation then co.collname end as collation,
               a.attnotnull as not_null, pg_get_expr(d.adbin, d.adrelid) as default,
               nullif(a.attidentity::text, '') as identity,
               nullif(a.attgenerated::text, '') as generated
        from pg_attribute a
        join pg_class c on c.oid = a.attrelid
        join pg_namespace n on n.oid = c.relnamespace
        join pg_type t on t.oid = a.atttypid
        left join pg_collation co on co.oid = a.attcollation
        left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where {_SYSTEM} and c.relkind in ('r', 'p', 'v', 'm', 'f')
          and a.attnum > 0 and not a.attisdropped
        order by 1, 2""",
    "constraints": f"""
        select n.nspname || '.' || coalesce(c.relname, '') as relation, k.conname as name,
               k.contype::text as type, pg_get_constraintdef(k.oid) as definition,
               k.condeferrable as deferrable, k.condeferred as deferred
        from pg_constraint k
        join pg_namespace n on n.oid = k.connamespace
        left join pg_class c on c.oid = k.conrelid
        where {_SYSTEM}
        order by 1, 2""",
    "indexes": f"""
        select n.nspname || '.' || c.relname as name, pg_get_indexdef(i.indexrelid) as definition
        from pg_index i join pg_class c on c.oid = i.indexrelid
        join pg_namespace n on n.oid = c.relnamespace
        where {_SYSTEM}
        order by 1""",
    "functions": f"""
        select n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid)
                   || ')' as name,
               p.prokind::text as kind, l.lanname as language,
               pg_get_function_result(p.oid) as returns,
               p.provolatile::text as volatility, p.proparallel::text as parallel,
               p.proisstrict as strict, p.prosecdef as security_definer,
               p.proleakproof as leakproof, p.procost as cost, p.prorows as rows,
               p.proconfig as config,
               case when p.prokind in ('f', 'p') then pg_get_functiondef(p.oid) end as definition
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        join pg_language l on l.oid = p.prolang
        where {_SYSTEM}
        order by 1""",
    "views": f"""
        select n.nspname || '.' || c.relname as name, pg_get_viewdef(c.oid) as definition
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where {_SYSTEM} and c.relkind in ('v', 'm')
        order by 1""",
    "sequences": f"""
        select n.nspname || '.' || c.relname as name, format_type(s.seqtypid, null) as type,
               s.seqstart as start, s.seqincrement as increment, s.seqmin as min,
               s.seqmax as max, s.seqcache as cache, s.seqcycle as cycle,
               (select on_.nspname || '.' || oc.relname || '.' || oa.attname
                from pg_depend dep
                join pg_class oc on oc.oid = dep.refobjid
                join pg_namespace on_ on on_.oid = oc.relnamespace
                join pg_attribute oa on oa.attrelid = dep.refobjid and oa.attnum = dep.refobjsubid
                where dep.classid = 'pg_class'::regclass and dep.objid = c.oid
                  and dep.refclassid = 'pg_class'::regclass and dep.deptype in ('a', 'i')
                ) as owned_by
        from pg_sequence s join pg_class c on c.oid = s.seqrelid
        join pg_namespace n on n.oid = c.relnamespace
        where {_SYSTEM}
        order by 1""",
    "triggers": f"""
        select n.nspname || '.' || c.relname || '.' || t.tgname as name,
               pg_get_triggerdef(t.oid) as definition
        from pg_trigger t join pg_class c on c.oid = t.tgrelid
        join pg_namespace n on n.oid = c.relnamespace
        where {_SYSTEM} and not t.tgisinternal
        order by 1""",
    "types": f"""
        select n.nspname || '.' || t.typname as name, t.typtype::text as kind,
               format_type(t.typbasetype, t.typtypmod) as base,
               (select array_agg(e.enumlabel order by e.enumsortorder)
                from pg_enum e where e.enumtypid = t.oid) as labels
        from pg_type t join pg_namespace n on n.oid = t.typnamespace
        left join pg_class c on c.oid = t.typrelid
        where {_SYSTEM} and t.typtype in ('e', 'd', 'r', 'm', 'c')
          and (c.oid is null or c.relkind = 'c')
        order by 1""",
    "extensions": """
        select extname as name from pg_extension order by 1""",
    "comments": f"""
        select n.nspname || '.' || c.relname
                   || coalesce('.' || a.attname, '') as object,
               d.description as comment
        from pg_description d
        join pg_class c on d.classoid = 'pg_class'::regclass and d.objoid = c.oid
        join pg_namespace n on n.oid = c.relnamespace
        left join pg_attribute a on a.attrelid = c.oid and a.attnum = d.objsubid
        where {_SYSTEM}
        union all
        select 'function ' || p.oid::regprocedure::text, d.description
        from pg_description d
        join pg_proc p on d.classoid = 'pg_proc'::regclass and d.objoid = p.oid
        join pg_namespace n on n.oid = p.pronamespace
        where {_SYSTEM}
        union all
        select 'schema ' || n.nspname, d.description
        from pg_description d
        join pg_namespace n on d.classoid = 'pg_namespace'::regclass and d.objoid = n.oid
        where {_SYSTEM}
        order by 1""",
}


def dump(conn: psycopg.Connection) -> dict[str, list[dict]]:
    """The normalised catalog of the database behind `conn`, as plain JSON data."""
    catalog: dict[str, list[dict]] = {}
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        for section, query in _QUERIES.items():
            rows = cur.execute(query).fetchall()
            catalog[section] = [json.loads(json.dumps(row, default=str)) for row in rows]
    return catalog


def to_text(catalog: dict) -> str:
    """The catalog as stable, diff-friendly JSON text."""
    return json.dumps(catalog, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def read_fixture() -> dict:
    """The committed catalog."""
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def diff(expected: dict, actual: dict) -> str:
    """A unified diff of two catalogs ('' when equal)."""
    return "".join(difflib.unified_diff(
        to_text(expected).splitlines(keepends=True), to_text(actual).splitlines(keepends=True),
        fromfile="tests/fixtures/schema_catalog.json", tofile="fresh init"))


def fresh_catalog() -> dict:
    """Initialise a throwaway database with `etl.schema.apply_migrations` and dump it."""
    import os

    from etl import schema
    from etl.settings import get_settings, reset_settings

    name = f"medallion_catalog_{uuid.uuid4().hex[:10]}"
    admin = get_settings().libpq_kwargs("postgres")
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    old = os.environ.get("POSTGRES_DB")
    try:
        os.environ["POSTGRES_DB"] = name
        reset_settings()
        schema.apply_migrations()
        with psycopg.connect(**get_settings().libpq_kwargs(name)) as conn:
            return dump(conn)
    finally:
        if old is None:
            os.environ.pop("POSTGRES_DB", None)
        else:
            os.environ["POSTGRES_DB"] = old
        reset_settings()
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)")
                         .format(sql.Identifier(name)))


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.support.catalog [--write]`: compare (or refresh) the fixture."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true",
                        help=f"rewrite {FIXTURE.relative_to(ROOT)} from a fresh init")
    args = parser.parse_args(argv)
    catalog = fresh_catalog()
    if args.write:
        FIXTURE.write_text(to_text(catalog), encoding="utf-8")
        print(f"wrote {FIXTURE.relative_to(ROOT)}")
        return 0
    changes = diff(read_fixture(), catalog) if FIXTURE.exists() else to_text(catalog)
    sys.stdout.write(changes or "the fresh catalog equals the fixture\n")
    return 1 if changes else 0


if __name__ == "__main__":
    sys.exit(main())
