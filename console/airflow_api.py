"""The console's access to Airflow: one cached `AirflowClient` per process (see
`console.airflow_rest`, the product's one REST client) and the views built on it.
The token never leaves this process.
"""

from __future__ import annotations

import streamlit as st

from console.airflow_rest import (  # noqa: F401  (re-exported for pages and tests)
    AirflowClient,
    AirflowRequestFailed,
    AirflowUnavailable,
)
from etl.settings import get_settings


@st.cache_resource(show_spinner=False)
def _client(base_url: str, username: str) -> AirflowClient:
    return AirflowClient(base_url, username, get_settings().airflow_password)


def get_client() -> AirflowClient:
    """The process-wide Airflow client for the configured API (tests replace this function)."""
    settings = get_settings()
    return _client(settings.airflow_api_url, settings.airflow_username)


def dag_health(client: AirflowClient) -> list[dict]:
    """Each DAG with its paused state, schedule and last run (state, when, duration)."""
    rows = []
    for dag in client.list_dags():
        runs = client.dag_runs(dag["dag_id"], limit=1)
        last = runs[0] if runs else {}
        rows.append({
            "dag_id": dag["dag_id"],
            "is_paused": dag["is_paused"],
            "schedule": dag["schedule"],
            "last_state": last.get("state"),
            "last_run_at": last.get("start_date") or last.get("run_after"),
            "last_duration_seconds": last.get("duration_seconds"),
            "last_run_id": last.get("dag_run_id"),
            "next_run_at": dag.get("next_run_at"),
        })
    return rows
