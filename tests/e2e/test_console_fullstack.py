"""The console on the real stack: sign in, trigger dag_2 from the button, watch gold fill up.

Real Airflow 3 components (stack.airflow_local: api-server, scheduler,
dag-processor, triggerer; a throwaway metadata database), the real DAG chain,
the console started by stack.console_local, and Debian's Chromium. Before the run
gold is empty; after `dag_2_data_ingesters` (triggered from the Pipelines page)
and the chain it sets off have finished, the KPI tiles show what gold holds,
and the trigger is in the audit log. Screenshots of every page, with Airflow
up, go to <screenshots folder>/live/ (see test_console_browser.py).
"""

from __future__ import annotations

import re
import time

import psycopg
import pytest
from pydantic import SecretStr
from test_console_browser import (PAGES, SCREENSHOTS, WAIT_SECONDS, WIDTH, assert_no_exception,
                                  launch_browser, open_page, screenshot, settle)

from console.airflow_api import AirflowClient
from tests.support.console_stack import airflow_and_console

pytestmark = pytest.mark.slow

CHAIN_SECONDS = 900  # a guard against hanging forever, not a performance assertion
CHAIN = ("dag_2_data_ingesters", "dag_3_data_transformer_bronze",
         "dag_3_data_transformer_bronze_json", "dag_4_data_transformer_silver")


@pytest.fixture
def stack(medallion_db, tmp_path, monkeypatch):
    """Raw files, Airflow and the console, all private to this test."""
    from etl import synth

    raw = tmp_path / "raw"
    synth.generate(raw, users=80, sessions=1500, contents=30, days=20, seed=21, dirty_rate=0.02)
    with airflow_and_console(raw, tmp_path / "home", monkeypatch) as started:
        yield started


def _chain_finished(client: AirflowClient) -> dict[str, str] | None:
    """dag_id -> state of its latest run once every DAG of the chain has finished one."""
    states = {}
    for dag_id in CHAIN:
        runs = client.dag_runs(dag_id, limit=1)
        if not runs or runs[0]["state"] not in ("success", "failed"):
            return None
        states[dag_id] = runs[0]["state"]
    return states


def _select(page, label: str, option: str) -> None:
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.click()
    page.locator('[role="option"]').filter(has_text=option).first.click()
    settle(page)


def _metric(page, label: str) -> str:
    tile = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return tile.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_trigger_from_console_fills_gold(stack):
    from playwright.sync_api import sync_playwright

    settings, url, password = stack
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            open_page(page, url, "gold-kpis")
            assert "Gold is empty" in page.inner_text("body")

            # Sign in from the sidebar, then trigger dag_2 from the Pipelines page.
            open_page(page, url, "pipelines")
            sidebar = page.locator('[data-testid="stSidebar"]')
            sidebar.get_by_label("User").fill("operator")
            sidebar.get_by_label("Password", exact=True).fill(password)
            sidebar.get_by_role("button", name="Sign in").click()
            page.wait_for_selector("text=Signed in as", timeout=WAIT_SECONDS * 1000)
            settle(page)
            assert password not in page.content()
            _select(page, "DAG", "dag_2_data_ingesters")
            page.get_by_role("button", name=re.compile("Trigger run")).click()
            page.wait_for_selector("text=Triggered dag_2_data_ingesters",
                                   timeout=WAIT_SECONDS * 1000)
            settle(page)
            assert_no_exception(page, "pipelines after trigger")

            client = AirflowClient(settings.airflow_api_url, "operator", SecretStr(password))
            deadline = time.monotonic() + CHAIN_SECONDS
            states = None
            while states is None and time.monotonic() < deadline:
                time.sleep(5)
                states = _chain_finished(client)
            assert states == {dag_id: "success" for dag_id in CHAIN}, states

            with psycopg.connect(**settings.libpq_kwargs()) as conn:
                sessions = conn.execute("select sessions from gold.kpi_summary").fetchone()[0]
                audit = conn.execute("select actor, action, target, outcome from ops.console_audit"
                                     ).fetchall()
            assert sessions > 0
            assert audit == [("operator", "trigger", "dag_2_data_ingesters", "success")]

            # Still the signed-in session: refresh and show the run on the Pipelines page.
            page.get_by_role("button", name=re.compile("Refresh data")).click()
            settle(page)
            _select(page, "DAG", "dag_4_data_transformer_silver")
            assert "Sign in (sidebar)" not in page.inner_text("body")
            assert_no_exception(page, "pipelines after the chain")
            screenshot(page, "pipelines", SCREENSHOTS / "live")

            # The tiles changed: gold was empty, now they show what gold holds.
            open_page(page, url, "gold-kpis")
            assert "Gold is empty" not in page.inner_text("body")
            assert _metric(page, "Sessions") == f"{sessions:,}"

            for name, path in PAGES.items():
                if name == "pipelines":
                    continue
                open_page(page, url, path)
                assert_no_exception(page, name)
                screenshot(page, name, SCREENSHOTS / "live")
        finally:
            browser.close()
