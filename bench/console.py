"""Benchmark: first render of each console page in Chromium with a large gold.fact_viewing.

On demand, not a test:

    .venv/bin/python bench/console.py [--rows 5000000] [--keep] [--reuse]

Builds a scratch database (`<POSTGRES_DB>_bench_console`) with every migration,
fills gold.fact_viewing with --rows synthetic sessions (generate_series in SQL)
and derives the other gold tables from it (the statements it shares with
tests/support/console_testdata.py, whose ops rows it adds), starts the console on a free
port, and opens every page once in headless Chromium with cold caches: each in a new tab
by its URL, then each from the sidebar of one tab. Reports the seconds until each page
has rendered (the goal is under 2 s), split at the console's `script_finished` message
into server and browser time, each page's script alone (AppTest), and, unless
--pages-only, the time of the filtered gold queries and of each loader.
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
from tests.support import console_observability_data, console_testdata  # noqa: E402

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
]
# Built by their own models (sql/gold), as `medallion run` does.
AGGREGATE_MODELS = ("gold.daily_segment_viewing", "gold.user_daily_viewing")


def load_ops(conn: psycopg.Connection) -> None:
    """Runs, checks, flags and files as the console tests have them (a failed latest run,
    open anomalies), so the ops pages have something to draw; once per database."""
    if conn.execute("select exists (select from ops.pipeline_runs)").fetchone()[0]:
        return
    with conn.transaction(), conn.cursor() as cur:
        console_testdata.load_ops(cur)
    with conn.transaction():
        console_observability_data.load(conn)


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
        started = time.monotonic()
        console_testdata.derive_summaries(conn)  # daily viewing, countries, the KPI summary
        print(f"  {'gold summaries':<28}{time.monotonic() - started:6.1f} s", flush=True)
        load_ops(conn)
    models = [m for m in sql_runner.discover(("gold",)) if m.name in AGGREGATE_MODELS]
    for result in sql_runner.run_models(models, run_id="bench-console", settings=settings):
        print(f"  {result.name:<28}{result.seconds:6.1f} s", flush=True)
    with psycopg.connect(**settings.libpq_kwargs(), autocommit=True) as conn:
        conn.execute("analyze")


def _script_finished_recorder(finished: list[float]):
    """A WebSocket frame handler appending the time of the first `script_finished` message."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    def on_frame(payload) -> None:
        if isinstance(payload, (bytes, bytearray)) and not finished:
            msg = ForwardMsg()
            try:
                msg.ParseFromString(bytes(payload))
            except Exception:  # noqa: BLE001 - not a ForwardMsg: not ours to time
                return
            if msg.WhichOneof("type") == "script_finished":
                finished.append(time.monotonic())

    return on_frame


def _timed(page, started: float, finished: list[float]) -> tuple[float, float, float]:
    """(total, server, browser) seconds of the page load or switch begun at `started`."""
    from test_console_browser import settle

    while not finished and time.monotonic() - started < 300:
        page.wait_for_timeout(50)  # lets Playwright deliver the WebSocket frames
    settle(page, timeout=300)
    total = max(0.0, time.monotonic() - started - STABLE_WINDOW_SECONDS)
    server = (finished[0] - started) if finished else float("nan")
    return total, server, max(0.0, total - server)


def _warm_up(browser, url: str) -> None:
    """The console process's start-up (imports, the first session) is not a page's first
    render: one visit of the sign-in gate of Redo work (no query, no chart) pays it first."""
    from test_console_browser import WIDTH, settle

    warm = browser.new_page(viewport={"width": WIDTH, "height": 900})
    warm.goto(f"{url}/redo")
    warm.wait_for_selector("h1", timeout=300_000)
    settle(warm, timeout=300)
    warm.close()


def time_pages(url: str) -> dict[str, tuple[float, float, float]]:
    """Per page, opened by its URL in a new tab (a new document and session, cold console
    caches): (total, server, browser) seconds.

    total: from navigation until the page has rendered and holds still (minus the stability
    window settle() waits for); server: until the console's `script_finished` message arrives
    over the page's WebSocket (session start, the page script and its queries, every delta
    sent); browser: the rest, Chromium loading the chart library and drawing what arrived.
    """
    from playwright.sync_api import sync_playwright
    from test_console_browser import PAGES, WIDTH, launch_browser

    finished: list[float] = []
    results = {}
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            _warm_up(browser, url)
            for name, path in PAGES.items():
                page = browser.new_page(viewport={"width": WIDTH, "height": 900})
                page.on("websocket", lambda ws: ws.on("framereceived",
                                                      _script_finished_recorder(finished)))
                finished.clear()
                started = time.monotonic()
                page.goto(f"{url}/{path}")
                results[name] = _timed(page, started, finished)
                page.close()
        finally:
            browser.close()
    return results


def time_navigation(url: str) -> dict[str, tuple[float, float, float]]:
    """Per page, reached from the sidebar of an open console (how an operator moves between
    pages: same document, same session, the page's data not read yet): (total, server,
    browser) seconds, as `time_pages` splits them. The first page is the landing page."""
    from playwright.sync_api import sync_playwright
    from test_console_browser import PAGES, WIDTH, launch_browser

    finished: list[float] = []
    results = {}
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            _warm_up(browser, url)
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            page.on("websocket", lambda ws: ws.on("framereceived",
                                                  _script_finished_recorder(finished)))
            for index, name in enumerate(PAGES):
                finished.clear()
                started = time.monotonic()
                if index == 0:
                    page.goto(url)
                else:
                    page.locator('[data-testid="stSidebarNav"] a').nth(index).click()
                results[name] = _timed(page, started, finished)
        finally:
            browser.close()
    return results


def time_scripts() -> dict[str, float]:
    """Seconds of each page's script on the server alone, with cold data caches: Streamlit's
    AppTest runs it in this process against the same database (no browser, no WebSocket).
    The Python the page runs: its queries, its frames and its figures."""
    from streamlit.testing.v1 import AppTest

    from console.data import reader
    from tests.support.console_helpers import APP, PAGES as SCRIPTS

    results = {}
    for name, script in SCRIPTS.items():
        at = AppTest.from_file(str(APP), default_timeout=300)
        if name != "overview":
            at.run()  # the landing page first, as the console tests do
            at.switch_page(script)
        reader.clear_caches()
        started = time.monotonic()
        at.run()
        results[name] = time.monotonic() - started
        if at.exception:
            raise RuntimeError(f"{name}: {[e.value for e in at.exception]}")
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
    parser.add_argument("--pages-only", action="store_true",
                        help="time the pages only, not the gold filters and loaders")
    parser.add_argument("--reuse", action="store_true",
                        help="time the scratch database a --keep run left (no rebuild)")
    args = parser.parse_args(argv)

    import logging
    import os

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    name = f"{get_settings().postgres_db}_bench_console"
    os.environ["POSTGRES_DB"] = name
    os.environ["AIRFLOW_API_URL"] = f"http://127.0.0.1:{free_port()}"  # no Airflow: DB pages only
    os.environ.setdefault("MEDALLION_HOME", str(ROOT / ".medallion" / "bench-console"))
    reset_settings()
    if args.reuse:
        with psycopg.connect(**get_settings().libpq_kwargs(), autocommit=True) as conn:
            args.rows = conn.execute("select count(*) from gold.fact_viewing").fetchone()[0]
            load_ops(conn)
        print(f"reusing {name} with {args.rows:,} sessions in gold.fact_viewing", flush=True)
    else:
        print(f"building {name} with {args.rows:,} sessions in gold.fact_viewing", flush=True)
        build_database(name, args.rows)
    load_before = " ".join(f"{v:.2f}" for v in os.getloadavg())
    url = console_local.start(get_settings(), port=free_port())
    try:
        pages = time_pages(url)
    finally:
        console_local.stop()
    url = console_local.start(get_settings(), port=free_port())  # cold caches again
    try:
        navigation = time_navigation(url)
    finally:
        console_local.stop()
    time_scripts()  # imports and first-use costs, not a page's
    scripts = time_scripts()
    filters = {} if args.pages_only else time_filters()
    loaders = {} if args.pages_only else time_loaders()

    print(f"\npage scripts on the server alone, cold data caches (AppTest; {args.rows:,} rows)")
    for name, seconds in scripts.items():
        print(f"  {name:<14}{seconds:6.2f} s")
    load = f"{load_before} before, " + " ".join(f"{v:.2f}" for v in os.getloadavg()) + " after"
    for title, timings in (("opened by URL in a new tab", pages),
                           ("reached from the sidebar", navigation)):
        print(f"\nfirst render per page, {title} ({args.rows:,} rows; goal < "
              f"{GOAL_SECONDS:.0f} s; load average {load})")
        print(f"  {'page':<14}{'total s':>8}{'server s':>10}{'browser s':>11}{'x goal':>8}")
        for name, (total, server, browser) in timings.items():
            flag = "ok" if total < GOAL_SECONDS else "SLOW"
            print(f"  {name:<14}{total:8.2f}{server:10.2f}{browser:11.2f}"
                  f"{total / GOAL_SECONDS:8.2f}   {flag}")
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
    return 0 if all(t < GOAL_SECONDS for t, _, _ in navigation.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
