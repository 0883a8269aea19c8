"""Sign-in lockout in a real headless Chromium: a reload (a new browser session) does not
reset it, the right password is refused while it holds, and every attempt is recorded
with the client's address in ops.console_signins."""

from __future__ import annotations

import secrets

import psycopg
import pytest

from etl.settings import get_settings, reset_settings
from stack import console_local
from stack.services import free_port
from test_console_browser import WAIT_SECONDS, launch_browser, open_page

pytestmark = pytest.mark.slow

FAILURES = 5


@pytest.fixture
def console(medallion_db, monkeypatch):
    password = secrets.token_urlsafe(16)  # a throwaway for this console only
    monkeypatch.setenv("AIRFLOW_USERNAME", "ops")
    monkeypatch.setenv("AIRFLOW_PASSWORD", password)
    monkeypatch.setenv("AIRFLOW_API_URL", f"http://127.0.0.1:{free_port()}")
    reset_settings()
    url = console_local.start(get_settings(), port=free_port())
    yield url, password
    console_local.stop()
    reset_settings()


def _sign_in(page, user: str, password: str) -> str:
    """Submit the sidebar form; the text of the sidebar once the app has answered."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("textbox", name="User").fill(user)
    sidebar.get_by_role("textbox", name="Password").fill(password)
    sidebar.get_by_role("button", name="Sign in").click()
    page.wait_for_function(
        """() => { const s = document.querySelector('[data-testid="stSidebar"]');
                   return s && (s.innerText.includes('refused') || s.innerText.includes('Too many')
                                || s.innerText.includes('Signed in as')) }""",
        timeout=WAIT_SECONDS * 1000)
    return sidebar.inner_text()


def test_lockout_survives_a_reload_in_chromium(console, medallion_db):
    from playwright.sync_api import sync_playwright

    url, password = console
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            for _ in range(FAILURES):
                open_page(page, url, "pipelines")  # a fresh session every time
                text = _sign_in(page, "ops", "wrong")
                assert "Sign-in refused" in text
            assert "locked for 60 s" in text
            open_page(page, url, "pipelines")
            text = _sign_in(page, "ops", password)
            assert "Too many failed sign-ins" in text and "Signed in as" not in text
            # another browser (no shared cookie or storage) is locked out too
            other = browser.new_context().new_page()
            open_page(other, url, "pipelines")
            assert "Too many failed sign-ins" in _sign_in(other, "ops", password)
        finally:
            browser.close()
    with psycopg.connect(**medallion_db.libpq_kwargs()) as conn:
        rows = conn.execute("select outcome, client_address from ops.console_signins "
                            "order by signin_id").fetchall()
    assert [r[0] for r in rows] == ["refused"] * FAILURES + ["locked", "locked"]
    # Chromium connects over loopback, which Streamlit reports as no address
    assert {r[1] for r in rows} == {"localhost"}
