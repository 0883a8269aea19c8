"""The What changed page (issue 16 item 5): two runs, their KPI, row, check and file changes."""

from __future__ import annotations

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from tests.support import console_observability_data
from tests.support.console_helpers import APP, PAGES, no_exception, texts


@pytest.fixture
def observed_db(loaded_db):
    with psycopg.connect(**loaded_db.libpq_kwargs()) as conn:
        console_observability_data.load(conn)
    return loaded_db


def _frame_with(at, column: str):
    return next(df.value for df in at.dataframe if column in df.value.columns)


def test_defaults_to_the_latest_run_against_its_previous_one(observed_db, fake_airflow,
                                                             open_page):
    at = open_page("changes")
    no_exception(at)
    assert at.selectbox(key="changes_after").value == "run-3"
    assert at.selectbox(key="changes_before").value == "run-2"
    shown = texts(at)
    assert "kept no KPI snapshot" in shown  # run-3 failed before gold
    checks = _frame_with(at, "check")
    flipped = dict(zip(checks["check"], zip(checks["before"], checks["after"])))
    assert flipped == {"email is valid": ("✅ pass", "⚠️ warn"),
                       "session_id is unique": ("✅ pass", "❌ fail")}
    files = _frame_with(at, "source_file")
    assert "sessions/viewing_sessions_run-3.csv" in set(files["source_file"])
    tables = _frame_with(at, "table")
    row = tables[tables["table"] == "silver.users"].iloc[0]
    assert (row["before"], row["after"], row["change"]) == (44, 68, 24)


def test_kpis_compare_compact_with_exact_values(observed_db, fake_airflow, open_page):
    at = open_page("changes")
    at.selectbox(key="changes_before").select("run-1").run()
    at.selectbox(key="changes_after").select("run-2").run()
    no_exception(at)
    sessions = next(m for m in at.metric if m.label == "sessions")
    assert sessions.value == "4.94M"
    assert "Exact value: 4,935,112" in sessions.proto.help
    assert "435.1K" in sessions.delta
    assert "No check changed its outcome" in texts(at)
    assert (at.query_params["before"], at.query_params["after"]) == ("run-1", "run-2")


def test_runs_in_either_order_and_the_same_run(observed_db, fake_airflow, open_page):
    at = open_page("changes")
    at.selectbox(key="changes_before").select("run-3").run()
    at.selectbox(key="changes_after").select("run-2").run()
    no_exception(at)
    assert "**Before** run-2" in texts(at)  # the earlier run is before
    at.selectbox(key="changes_before").select("run-2").run()
    assert "Pick two different runs" in texts(at)


def test_opened_from_a_link_with_query_params(observed_db, fake_airflow):
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.query_params["before"] = "run-1"
    at.query_params["after"] = "run-3"
    at.switch_page(PAGES["changes"]).run()
    no_exception(at)
    assert (at.selectbox(key="changes_before").value,
            at.selectbox(key="changes_after").value) == ("run-1", "run-3")
