"""Redo work clicked in a real headless Chromium against a real Airflow 3 (issue 16, item 4).

The stack is the one test_console_fullstack.py uses (tests/support/console_stack.py: the
Airflow components, the real DAGs, the console). Signed in on the Redo work page, the test:

1. re-ingests the sub-folder `batch-1` of RAW_DATA_PATH: dag_2 runs with that folder, and
   then every raw file of it is settled in ops.ingestion_log (found by its SHA-256);
2. re-runs a failed run of dag_2 from its failed task: the run was triggered with a folder
   that did not exist yet (register_files fails for that real reason, terminally, without
   retries); the test then creates the folder, the re-run runs that task again, and the
   folder's files reach ops.ingestion_log;
3. runs a full refresh of silver and gold: dag_4 with full_refresh, whose model runs are
   recorded with mode `full`.

Each time the page shows the run's progress until it says the run finished, and the
action is in the audit log.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import psycopg
import pytest
from test_console_browser import (WAIT_SECONDS, WIDTH, assert_no_exception, launch_browser,
                                  open_page, settle, sign_in)

from console.airflow_api import AirflowClient
from etl.runs import airflow_run_id
from tests.support.console_stack import airflow_and_console, wait_for

pytestmark = pytest.mark.slow

RUN_SECONDS = 600  # a guard against hanging forever, not a performance assertion
INGEST, TRANSFORM = "dag_2_data_ingesters", "dag_4_data_transformer_silver"
SMALL = dict(users=40, sessions=400, contents=15, days=10, dirty_rate=0.02)


@pytest.fixture
def stack(medallion_db, tmp_path, monkeypatch):
    from etl import synth

    raw = tmp_path / "raw"
    synth.generate(raw / "batch-1", seed=31, **SMALL)
    with airflow_and_console(raw, tmp_path / "home", monkeypatch) as (settings, url, password):
        yield settings, url, password, raw


def _raw_hashes(folder: Path) -> set[str]:
    """The SHA-256 of every raw data file (users, sessions, content) under `folder`."""
    from etl.ingest.discover import classify

    return {hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*")
            if p.is_file() and classify(p.name)}


def _select(page, label: str, option: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    main = page.locator('[data-testid="stMainBlockContainer"]')
    box = main.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    wanted = page.locator('[role="option"]').filter(has_text=option).first
    # A click that lands while the page re-runs (after "Refresh data") focuses the box
    # without opening its list: open it again until the option shows.
    for _ in range(5):
        box.click()
        try:
            wanted.wait_for(timeout=5000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            settle(page)
    wanted.click()
    settle(page)


def _follow_to_the_end(page, what: str) -> tuple[str, str]:
    """The page shows the run's progress bar, then '<what> finished: run <id> <state>.';
    returns (run id, state)."""
    # While the run is going: the bar labelled with this action, and the polling note.
    page.locator('[data-testid="stProgress"]').filter(has_text=f"{what}:").first.wait_for(
        timeout=WAIT_SECONDS * 1000)
    assert "until the run finishes" in page.inner_text("body")
    pattern = re.compile(re.escape(what) + r" finished: run (\S+) (\w+)\.")
    page.wait_for_function(
        "text => document.body.innerText.includes(text)", arg=f"{what} finished: run",
        timeout=RUN_SECONDS * 1000, polling=1000)
    settle(page)
    assert_no_exception(page, what)
    found = pattern.search(page.inner_text("body"))
    assert found, page.inner_text("body")[-2000:]
    return found.group(1), found.group(2)


def _ingested(settings, folder: Path) -> bool:
    """Whether every raw file of `folder` is settled in ops.ingestion_log (loaded, rejected
    or a duplicate): registered by dag_2, then loaded by the dag_3 runs it triggered."""
    expected = _raw_hashes(folder)
    assert expected, f"no raw file in {folder}"
    with psycopg.connect(**settings.libpq_kwargs()) as conn:
        found = {sha for (sha,) in conn.execute(
            "select sha256 from ops.ingestion_log where sha256 = any(%s)", (list(expected),))}
    return found == expected


def test_redo_actions_in_chromium(stack):
    from playwright.sync_api import sync_playwright

    from etl import synth

    settings, url, password, raw = stack
    client = AirflowClient(settings.airflow_api_url, "operator", settings.airflow_password)
    # A run that fails for a real reason: the folder it names does not exist (yet).
    failed_run = client.trigger(INGEST, {"raw_dir": "batch-3"})["dag_run_id"]

    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            open_page(page, url, "redo")
            sign_in(page, "operator", password)
            assert_no_exception(page, "redo signed in")

            # 1. Re-ingest one sub-folder.
            folder = page.get_by_label("Folder (relative to RAW_DATA_PATH)")
            folder.fill("batch-1")
            folder.press("Enter")
            settle(page)
            page.get_by_role("button", name=re.compile("Re-ingest folder")).click()
            run_id, state = _follow_to_the_end(page, "Re-ingest of batch-1")
            assert state == "success"
            assert client.dag_runs(INGEST, 50)[0]["conf"] == {"raw_dir": "batch-1"}
            wait_for(lambda: _ingested(settings, raw / "batch-1"), RUN_SECONDS,
                     "the files of batch-1 in ops.ingestion_log")

            # 2. Re-run the failed run from its failed task, once its cause is fixed.
            wait_for(lambda: next((r["state"] == "failed" for r in client.dag_runs(INGEST, 50)
                                   if r["dag_run_id"] == failed_run), False),
                     RUN_SECONDS, f"{INGEST} run {failed_run} to fail")
            synth.generate(raw / "batch-3", seed=33, **SMALL)
            page.get_by_role("button", name=re.compile("Refresh data")).click()
            settle(page)
            _select(page, "DAG", INGEST)
            _select(page, "Failed run", failed_run)
            assert "Will run again: register_files" in page.inner_text("body")
            page.get_by_role("button", name=re.compile("Re-run from failed tasks")).click()
            run_id, state = _follow_to_the_end(page, "Re-run")
            assert (run_id, state) == (failed_run, "success")
            tries = {t["task_id"]: (t["state"], t["try_number"])
                     for t in client.task_instances(INGEST, failed_run)}
            assert tries["register_files"][0] == "success" and tries["register_files"][1] >= 2
            assert tries["ensure_schema"] == ("success", 1)  # only the failed task ran again
            wait_for(lambda: _ingested(settings, raw / "batch-3"), RUN_SECONDS,
                     "the files of batch-3 in ops.ingestion_log")

            # 3. Full refresh of silver and gold.
            page.get_by_role("button", name=re.compile("Full refresh")).click()
            run_id, state = _follow_to_the_end(page, "Full refresh")
            assert state == "success"
            assert {r["dag_run_id"]: r["conf"] for r in client.dag_runs(TRANSFORM, 50)
                    }[run_id] == {"full_refresh": True}
            with psycopg.connect(**settings.libpq_kwargs()) as conn:
                modes = conn.execute(
                    "select layer, array_agg(distinct mode) from ops.model_runs "
                    "where run_id = %s group by layer order by layer",
                    (airflow_run_id(TRANSFORM, run_id),)).fetchall()
                audit = conn.execute("select actor, action, outcome from ops.console_audit "
                                     "order by audit_id").fetchall()
            assert modes == [("gold", ["full"]), ("silver", ["full"])]
            assert audit == [("operator", "reingest", "success"),
                             ("operator", "clear_failed", "success"),
                             ("operator", "full_refresh", "success")]
        finally:
            browser.close()
