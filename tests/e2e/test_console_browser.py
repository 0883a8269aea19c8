"""The console in a real headless Chromium, against a database filled by the real pipeline.

Raw files come from the generator, `medallion run` (etl.pipeline) loads them
twice (a second batch lands in between), and the console started by
`stack.console_local` serves every page to Chromium (Debian's, through the
`playwright` package; never `playwright install`). No page may show an
exception or an error block; Airflow is not running here, which the pages must
say plainly. A screenshot of each page goes to build/screenshots/<page>.png (tests never
write tracked files; `scripts/refresh-screenshots.sh` points MEDALLION_SCREENSHOTS_DIR at
docs/screenshots to refresh the README's pictures).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from stack import console_local
from etl.errors import QualityGateFailed
from stack.services import free_port
from etl.settings import get_settings, reset_settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("MEDALLION_SCREENSHOTS_DIR") or ROOT / "build" / "screenshots")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = {  # screenshot name -> URL path
    "overview": "",
    "pipelines": "pipelines",
    "data_quality": "data-quality",
    "volumes": "volumes",
    "gold_kpis": "gold-kpis",
    "changes": "changes",
    "lineage": "lineage",
    "redo": "redo",
}
WAIT_SECONDS = 120  # a guard against hanging, not a performance assertion
WIDTH = 1440

_HEIGHT_JS = """() => { const m = document.querySelector('[data-testid="stMainBlockContainer"]');
                        return m ? m.scrollHeight : 0 }"""
_BUSY_JS = """() => !!document.querySelector('[data-testid="stStatusWidget"]')
                  || !!document.querySelector('[data-testid="stSkeleton"]')"""


# ------------------------------------------------------------------ browser helpers

def launch_browser(playwright):
    """Debian's Chromium, headless, with nothing reaching out to the internet."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (never `playwright install`)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def settle(page, timeout: float = WAIT_SECONDS) -> int:
    """Wait until the app stops running and its height holds still; returns the height."""
    last, stable = -1, 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and stable < 4:
        height, busy = page.evaluate(_HEIGHT_JS), page.evaluate(_BUSY_JS)
        stable = stable + 1 if (height == last and height > 0 and not busy) else 0
        last = height
        time.sleep(0.3)
    if stable < 4:
        pytest.fail(f"{page.url} kept changing for {timeout} s")
    return last


def open_page(page, base_url: str, path: str) -> None:
    """Go to a console page and wait until it has rendered."""
    page.goto(f"{base_url}/{path}")
    page.wait_for_selector("h1", timeout=WAIT_SECONDS * 1000)
    settle(page)


def assert_no_exception(page, name: str) -> None:
    """No exception block, no error block, no traceback text on the page."""
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, f"{name}: {exceptions.all_inner_texts()}"
    # Only what a person sees: during a rerun Streamlit can keep a stale, hidden element.
    errors = page.locator('[data-testid="stAlertContentError"]:visible')
    assert errors.count() == 0, (
        f"{name}: {errors.all_inner_texts()} "
        f"{[errors.nth(i).inner_html()[:500] for i in range(errors.count())]}")
    body = page.inner_text("body")
    assert "Traceback" not in body, f"{name} shows a traceback"


def sign_in(page, user: str, password: str) -> None:
    """Sign in from the sidebar and wait until it says so."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("textbox", name="User").fill(user)
    sidebar.get_by_role("textbox", name="Password").fill(password)
    sidebar.get_by_role("button", name="Sign in").click()
    page.wait_for_function(
        """() => { const s = document.querySelector('[data-testid="stSidebar"]');
                   return s && s.innerText.includes('Signed in as') }""",
        timeout=WAIT_SECONDS * 1000)
    settle(page)


def screenshot(page, name: str, folder: Path = SCREENSHOTS) -> Path:
    """The whole page (Streamlit scrolls inside the app, so grow the viewport first)."""
    folder.mkdir(parents=True, exist_ok=True)
    height = settle(page)
    page.set_viewport_size({"width": WIDTH, "height": max(900, height + 60)})
    settle(page)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": WIDTH, "height": 900})
    return path


# ------------------------------------------------------------------ the stack

@pytest.fixture
def console_on_pipeline_data(medallion_db, tmp_path, monkeypatch):
    """A database filled by two real pipeline runs, and the console serving it."""
    yield from _console_on_runs(medallion_db, tmp_path, monkeypatch, dirty_batch=False)


@pytest.fixture
def console_on_realistic_data(medallion_db, tmp_path, monkeypatch):
    """Three real pipeline runs, the third on a dirty batch, judged by the real anomaly
    detector (ANOMALY_MIN_HISTORY_RUNS=2: two runs are the history), and gold.kpi_summary
    with a maximum age it has already passed: flags and a freshness breach to show."""
    monkeypatch.setenv("ANOMALY_MIN_HISTORY_RUNS", "2")
    monkeypatch.setenv("GOLD_MAX_AGE_OVERRIDES", f"{BREACHED_TABLE}=0.0001")
    reset_settings()
    yield from _console_on_runs(get_settings(), tmp_path, monkeypatch, dirty_batch=True)


BREACHED_TABLE = "gold.kpi_summary"


def _console_on_runs(settings, tmp_path: Path, monkeypatch, *, dirty_batch: bool):
    from etl import pipeline, synth
    from etl.observability import anomalies

    raw = tmp_path / "raw"
    synth.generate(raw / "batch-1", users=400, sessions=8000, contents=120, days=45, seed=7,
                   dirty_rate=0.02)
    _run(pipeline, raw, settings)
    synth.generate(raw / "batch-2", users=450, sessions=3000, contents=130, days=10, seed=8,
                   dirty_rate=0.03)
    _run(pipeline, raw, settings)
    if dirty_batch:
        synth.generate(raw / "batch-3", users=450, sessions=3000, contents=130, days=5, seed=9,
                       dirty_rate=0.25)
        _run(pipeline, raw, settings)
        assert anomalies.detect(settings=settings, alert=False), "the dirty batch was not flagged"
    # Nothing listens on this port: the console must say Airflow is down and keep working.
    monkeypatch.setenv("AIRFLOW_API_URL", f"http://127.0.0.1:{free_port()}")
    reset_settings()
    url = console_local.start(get_settings(), port=free_port())
    yield url
    console_local.stop()


def _run(pipeline, raw: Path, settings) -> None:
    try:
        pipeline.run(raw, settings=settings)
    except QualityGateFailed:
        pass  # a failed gate is a state the console shows; the run is recorded either way


def test_every_page_in_chromium(console_on_realistic_data):
    from playwright.sync_api import sync_playwright

    console_on_pipeline_data = console_on_realistic_data

    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            for name, path in PAGES.items():
                open_page(page, console_on_pipeline_data, path)
                assert_no_exception(page, name)
                if name == "overview":  # the dirty batch's flags and the breach, in view
                    body = page.inner_text("body")
                    assert re.search(r"(above|below) the expected", body), body[:3000]
                    assert "older than allowed" in body
                screenshot(page, name)
            # The sidebar navigation reaches every page.
            page.goto(console_on_pipeline_data)
            page.wait_for_selector("h1")
            nav = page.locator('[data-testid="stSidebarNav"] a')
            assert nav.count() == len(PAGES)
            nav.filter(has_text="Gold KPIs").click()
            page.wait_for_selector("h1:has-text('Gold KPIs')", timeout=WAIT_SECONDS * 1000)
            settle(page)
            assert_no_exception(page, "gold_kpis via navigation")
            assert page.locator('[data-testid="stMetric"]').count() >= 6
            # Airflow is down: said plainly, once, on the pages that use it.
            open_page(page, console_on_pipeline_data, "pipelines")
            assert "Airflow unavailable" in page.inner_text("body")
        finally:
            browser.close()
