"""Console fixtures: a loaded database, a fake Airflow, and an AppTest factory."""

from __future__ import annotations

import psycopg
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from console import airflow_api, auth
from tests.support import console_testdata
from tests.support.console_fakes import FakeAirflow
from tests.support.console_helpers import APP, PAGES


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches():
    """Cached results, clients and sign-in lockouts must not leak between tests."""
    st.cache_data.clear()
    st.cache_resource.clear()
    auth.GUARD.reset()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
    auth.GUARD.reset()


@pytest.fixture
def loaded_db(medallion_db):
    """The medallion_db with the console dataset in gold and ops."""
    with psycopg.connect(**medallion_db.libpq_kwargs()) as conn:
        console_testdata.load(conn)
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
