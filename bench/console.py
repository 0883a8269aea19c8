"""Benchmark: first render of each console page in Chromium with a large gold.fact_viewing.

On demand, not a test:

    .venv/bin/python bench/console.py [--rows 5000000] [--keep]

Builds a scratch database (`<POSTGRES_DB>_bench_console`) with every migration,
fills gold.fact_viewing with --rows synthetic sessions (generate_series in SQL)
and derives the other gold tables from it, starts the console on a free port,
and opens every page once in headless Chromium with cold caches. Reports the
seconds until each page has rendered (the goal is under 2 s) and, for the gold
filters, the time of each filtered query (the aggregate tables, and fact_viewing for
content and genres).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from etl import schema, sql_runner  # noqa: E402
from stack import console_local  # noqa: E402
from stack.services import free_port  # noqa: E402
from etl.settings import get_settings, reset_settings  # noqa: E402

GOAL_SECONDS = 2.0
STABLE_WINDOW_SECONDS = 1.2  # settle() waits for 4 polls 0.3 s apart with nothing changing

FILL = [
    """insert into gold.fact_viewing
       select 's' || g, 'u' || mod(g, %(users)s), 'c' || mod(g, 2000),
              ts, ts::date,
              (array['tv','mobile','web','tablet','other'])[1 + mod(g, 5)],
              w, pct, pct >= 90,
              (array['US','DE','BR','FR','IN','JP','GB','MX','CA', null])[1 + mod(g, 10)],
              (array['free','basic','standard','premium'])[1 + mod(g, 4)],
              'Title ' || mod(g, 2000),
              (array['movie','series','documentary','short'])[1 + mod(g, 4)],
              (array['drama','comedy','thriller','nature','kids','sci-fi'])[1 + mod(g, 6)]
       from (select g, timestamptz '2026-01-01' + mod(g, 262800) * interval '2 minutes' as ts,
                    60 + mod(g * 7919, 7200) as w,
                    least(100.0, (60 + mod(g * 7919, 7200)) * 100.0 / 3600) as pct
             from generate_series(1::bigint, %(rows)s::bigint) g) s""",
    """insert into gold.daily_viewing
       select session_date, device, count(*), count(distinct user_id),
              sum(watch_seconds) / 3600.0, avg(completion_pct)
       from gold.fact_viewing group by session_date, device""",
    """insert into gold.content_performance
       select content_id, max(content_title), max(content_type), count(*),
              count(distinct user_id), sum(watch_seconds) / 3600.0, avg(completion_pct),
              100.0 * count(*) filter (where is_completed) / nullif(count(completion_pct), 0)
       from gold.fact_viewing group by content_id""",
    """insert into gold.user_engagement
       select user_id, max(country), max(subscription_tier), count(*),
              sum(watch_seconds) / 3600.0, count(distinct session_date), min(started_at),
              max(started_at), avg(watch_seconds) / 60.0,
              case when sum(watch_seconds) < 3600 then 'light'
                   when sum(watch_seconds) < 36000 then 'regular' else 'heavy' end
       from gold.fact_viewing group by user_id""",
    """insert into gold.genre_performance
       select primary_genre, count(distinct content_id), count(*), count(distinct user_id),
              sum(watch_seconds) / 3600.0, avg(completion_pct)
       from gold.fact_viewing group by primary_genre""",
    """insert into gold.country_insights
       select coalesce(country, 'unknown'), count(*), count(*) filter (where sessions > 0),
              sum(sessions), sum(total_watch_hours), avg(avg_session_minutes)
       from gold.user_engagement group by coalesce(country, 'unknown')""",
    """insert into gold.kpi_summary
       select (select count(*) from gold.user_engagement),
              count(distinct user_id) filter (where started_at > (select max(started_at)
                  from gold.fact_viewing) - interval '720 hours'),
              count(*), sum(watch_seconds) / 3600.0, avg(watch_seconds) / 60.0,
              avg(completion_pct),
              100.0 * count(*) filter (where is_completed) / nullif(count(completion_pct), 0),
              max(started_at)
       from gold.fact_viewing""",
]
# Built by their own models (sql/gold), as `medallion run` does.
AGGREGATE_MODELS = ("gold.daily_segment_viewing", "gold.user_daily_viewing")


def build_database(name: str, rows: int) -> None:
    """A fresh database with the schema and a large, consistent gold layer."""
    settings = get_settings()
    with psycopg.connect(**settings.libpq_kwargs("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    schema.apply_migrations()
    with psycopg.connect(**settings.libpq_kwargs(), autocommit=True) as conn:
        # the monthly partitions of the sessions' year (migration 0510), as the pipeline's
        # gold.fact_viewing model makes them before it loads
        conn.execute("select gold.add_fact_viewing_partitions(array("
                     "select d::date from generate_series(date '2026-01-01', date '2027-01-01', "
                     "interval '1 month') as d))")
        for statement in FILL:
            started = time.monotonic()
            conn.execute(statement, {"rows": rows, "users": max(rows // 50, 10)})
            print(f"  {statement.split()[2]:<28}{time.monotonic() - started:6.1f} s", flush=True)
    models = [m for m in sql_runner.discover(("gold",)) if m.name in AGGREGATE_MODELS]
    for result in sql_runner.run_models(models, run_id="bench-console", settings=settings):
        print(f"  {result.name:<28}{result.seconds:6.1f} s", flush=True)
    with psycopg.connect(**settings.libpq_kwargs(), autocommit=True) as conn:
        conn.execute("analyze")


def time_pages(url: str) -> dict[str, float]:
    """Seconds to the first complete render of each page (cold console caches)."""
    from playwright.sync_api import sync_playwright
    from test_console_browser import PAGES, WIDTH, launch_browser, settle

    results = {}
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            for name, path in PAGES.items():
                started = time.monotonic()
                page.goto(f"{url}/{path}")
                page.wait_for_selector("h1", timeout=300_000)
                settle(page, timeout=300)
                results[name] = max(0.0, time.monotonic() - started - STABLE_WINDOW_SECONDS)
        finally:
            browser.close()
    return results


def time_filters() -> dict[str, float]:
    """Seconds of the gold queries under filters (uncached)."""
    from console.data import gold, reader

    first, last = gold.date_bounds()
    cases = {
        "country=DE": gold.KpiFilter(first, last, countries=("DE",), first_date=first,
                                     last_date=last),
        "tier=premium, device=tv": gold.KpiFilter(first, last, tiers=("premium",),
                                                  devices=("tv",), first_date=first,
                                                  last_date=last),
        "last 30 days": gold.KpiFilter(last.replace(day=1), last, first_date=first,
                                       last_date=last),
    }
    results = {}
    for label, flt in cases.items():
        reader.clear_caches()
        started = time.monotonic()
        gold.kpi_tiles(flt)
        gold.daily_viewing(flt)
        gold.top_content(flt, "views")
        gold.top_content(flt, "watch_hours")
        gold.genre_performance(flt)
        gold.country_insights(flt)
        gold.user_segments(flt)
        results[label] = time.monotonic() - started
    return results


def time_loaders() -> dict[str, float]:
    """Seconds of each console.data loader the pages call without filters (uncached)."""
    import datetime as dt

    from console.data import attention, gold, quality, reader, runs

    first, last = gold.date_bounds()
    flt = gold.KpiFilter(first or dt.date.today(), last or dt.date.today(), first_date=first,
                         last_date=last)
    loaders = {
        "latest_scores": quality.latest_scores, "layer_row_totals": runs.layer_row_totals,
        "latest_latency": runs.latest_latency, "gold_freshness": runs.gold_freshness,
        "needs_attention": attention.needs_attention, "latest_runs_per_dag": runs.latest_runs_per_dag,
        "date_bounds": gold.date_bounds, "filter_options": gold.filter_options,
        "kpi_tiles": lambda: gold.kpi_tiles(flt), "daily_viewing": lambda: gold.daily_viewing(flt),
        "top_content": lambda: gold.top_content(flt, "views"),
        "genre_performance": lambda: gold.genre_performance(flt),
        "country_insights": lambda: gold.country_insights(flt),
        "user_segments": lambda: gold.user_segments(flt),
    }
    results = {}
    for name, loader in loaders.items():
        reader.clear_caches()
        started = time.monotonic()
        loader()
        results[name] = time.monotonic() - started
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows in gold.fact_viewing")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)

    import logging
    import os

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    name = f"{get_settings().postgres_db}_bench_console"
    os.environ["POSTGRES_DB"] = name
    os.environ["AIRFLOW_API_URL"] = f"http://127.0.0.1:{free_port()}"  # no Airflow: DB pages only
    os.environ.setdefault("MEDALLION_HOME", str(ROOT / ".medallion" / "bench-console"))
    reset_settings()
    print(f"building {name} with {args.rows:,} sessions in gold.fact_viewing", flush=True)
    build_database(name, args.rows)
    url = console_local.start(get_settings(), port=free_port())
    try:
        pages = time_pages(url)
    finally:
        console_local.stop()
    filters = time_filters()
    loaders = time_loaders()

    print(f"\nfirst render per page ({args.rows:,} rows; goal < {GOAL_SECONDS:.0f} s)")
    for name, seconds in pages.items():
        flag = "ok" if seconds < GOAL_SECONDS else "SLOW"
        print(f"  {name:<14}{seconds:6.2f} s   {seconds / GOAL_SECONDS:5.2f} x goal   {flag}")
    print("\ngold filters reading fact_viewing (all seven queries, uncached)")
    for label, seconds in filters.items():
        print(f"  {label:<26}{seconds:6.2f} s")
    print("\nconsole.data loaders without filters (uncached)")
    for label, seconds in loaders.items():
        print(f"  {label:<26}{seconds:6.2f} s")
    if not args.keep:
        with psycopg.connect(**get_settings().libpq_kwargs("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(name)))
    return 0 if all(s < GOAL_SECONDS for s in pages.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
