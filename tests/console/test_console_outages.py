"""When the database or Airflow is down, each page says so plainly and the rest still works."""

import pytest

from stack.services import free_port
from etl.settings import reset_settings
from tests.support.console_helpers import PAGES, no_exception, texts


@pytest.fixture
def database_down(monkeypatch):
    monkeypatch.setenv("POSTGRES_HOST", "127.0.0.1")
    monkeypatch.setenv("POSTGRES_PORT", str(free_port()))
    reset_settings()
    yield
    reset_settings()


@pytest.fixture
def airflow_down(monkeypatch):
    """The real client against a port nothing listens on."""
    monkeypatch.setenv("AIRFLOW_API_URL", f"http://127.0.0.1:{free_port()}")
    reset_settings()
    yield
    reset_settings()


@pytest.mark.parametrize("name", list(PAGES))
def test_database_down(name, database_down, fake_airflow, open_page):
    at = open_page(name, signed_in="admin")
    no_exception(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    assert "Database unavailable" in errors[0] and "POSTGRES_PORT" in errors[0]


def test_database_down_keeps_airflow_views(database_down, fake_airflow, open_page):
    at = open_page("pipelines", signed_in="admin")
    assert at.selectbox(key="dag").options
    assert at.button(key="trigger_submit")
    overview = open_page("overview")
    health = overview.dataframe[0].value
    assert len(health) == 5


def test_action_with_database_down_is_refused(database_down, fake_airflow, open_page):
    at = open_page("pipelines", signed_in="admin")
    at.button(key="pause_toggle").click().run()
    no_exception(at)
    # the audit fails closed: without its row the action is not taken
    assert fake_airflow.paused["dag_1_dw_layers_generator"] is True
    assert not [c for c in fake_airflow.calls if c[0] == "set_paused"]
    assert any("was not sent to Airflow" in e.value for e in at.error)
    assert any("not written to the audit log" in e.value for e in at.error)


@pytest.mark.parametrize("name", ["overview", "pipelines"])
def test_airflow_down(name, loaded_db, airflow_down, open_page):
    at = open_page(name, signed_in="admin")
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and "Airflow unavailable" in warnings[0]
    assert "medallion airflow up" in warnings[0]
    # The database views still render: runs recorded in ops.pipeline_runs.
    frames = [df.value for df in at.dataframe]
    assert any("run-3" in set(df.get("run_id", [])) for df in frames)


@pytest.mark.parametrize("name", ["data_quality", "volumes", "gold_kpis"])
def test_airflow_down_does_not_touch_database_pages(name, loaded_db, airflow_down, open_page):
    at = open_page(name)
    no_exception(at)
    assert not at.error and not at.warning
    assert "Airflow" not in texts(at).replace("Airflow `", "")


def test_private_console_shows_only_sign_in(loaded_db, fake_airflow, open_page, monkeypatch):
    monkeypatch.setenv("CONSOLE_PUBLIC_READ", "false")
    monkeypatch.setenv("AIRFLOW_PASSWORD", "pw-123")
    reset_settings()
    at = open_page("overview")
    no_exception(at)
    assert at.title[0].value == "🔐 Sign in"
    assert not at.metric and not at.dataframe
    at.text_input(key="sign_in_page_user").input("admin")
    at.text_input(key="sign_in_page_password").input("pw-123")
    at.button(key="FormSubmitter:sign_in_page-Sign in").click().run()
    no_exception(at)
    assert at.title[0].value == "🏠 Overview"
    assert at.metric
