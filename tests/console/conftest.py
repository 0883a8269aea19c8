"""Console fixtures: a loaded database, a fake Airflow, and an AppTest factory."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from console import airflow_api
from tests.console import dataset
from tests.console.fakes import FakeAirflow

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "console" / "streamlit_app.py"
PAGES = {
    "overview": "app_pages/overview.py",
    "pipelines": "app_pages/pipelines.py",
    "data_quality": "app_pages/data_quality.py",
    "volumes": "app_pages/volumes.py",
    "gold_kpis": "app_pages/gold_kpis.py",
}


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches():
    """Cached results and clients must not leak between tests."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def loaded_db(medallion_db):
    """The medallion_db with the console dataset in gold and ops."""
    with psycopg.connect(**medallion_db.libpq_kwargs()) as conn:
        dataset.load(conn)
    return medallion_db


@pytest.fixture
def fake_airflow(monkeypatch) -> FakeAirflow:
    """A FakeAirflow that every page gets from airflow_api.get_client()."""
    fake = FakeAirflow()
    monkeypatch.setattr(airflow_api, "get_client", lambda: fake)
    return fake


@pytest.fixture
def open_page():
    """open_page(name, signed_in=False) -> the AppTest after the page's first run."""

    def _open(name: str, signed_in: str | None = None) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=90)
        if signed_in:
            at.session_state["console_user"] = signed_in
        at.run()
        if name != "overview":
            at.switch_page(PAGES[name]).run()
        return at

    return _open


def texts(at: AppTest) -> str:
    """Every visible text of the app, for assertions."""
    parts = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "success", "warning",
                 "error", "code"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    parts.extend(f"{m.label} {m.value} {m.delta}" for m in at.metric)
    return "\n".join(parts)


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
