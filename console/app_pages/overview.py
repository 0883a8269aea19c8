"""Overview: is the pipeline healthy right now, and what needs a person."""

import pandas as pd
import streamlit as st

from console import airflow_api, ui
from console.data import attention, quality, reader, runs

REFRESH_SECONDS = 30

st.title("🏠 Overview")
st.caption(f"Refreshes itself every {REFRESH_SECONDS} s.")


def _quality_tiles() -> None:
    scores = ui.load(quality.latest_scores)
    if scores is None:
        return
    by_layer = {row["layer"]: row for row in scores.to_dict("records")}
    for column, layer in zip(st.columns(3), reader.LAYERS):
        row = by_layer.get(layer)
        with column:
            if row is None:
                ui.metric(f"{layer.title()} quality score", "–",
                          help="No quality run recorded for this layer yet.")
                continue
            change = None if pd.isna(row["score_change"]) else round(float(row["score_change"]), 1)
            ui.metric(f"{layer.title()} quality score", row["score"], digits=1, delta=change,
                      delta_description="since previous run" if change is not None else None,
                      help=f"{row['checks_pass']}/{row['checks_total']} checks pass, "
                           f"{row['critical_failures']} critical failure(s); "
                           f"run {row['run_id']} at {ui.fmt_time(row['measured_at'])}")


def _volume_tiles() -> None:
    rows = ui.load(runs.layer_row_totals)
    latency = ui.load(runs.latest_latency)
    fresh = ui.load(runs.gold_freshness)
    columns = st.columns(5)
    for column, layer in zip(columns, reader.LAYERS):
        ui.metric(f"Rows in {layer}", (rows or {}).get(layer), container=column,
                  help="Bronze and silver: the latest accounting of each entity; "
                       "gold: the latest build of each gold table.")
    ui.metric("Latency (last run)", ui.fmt_duration((latency or {}).get("latency_seconds")),
              container=columns[3],
              help="From the earliest file landing (its modification time) to gold built.")
    built = (fresh or {}).get("gold_built_at")
    ui.metric("Gold freshness", ui.fmt_ago(built), container=columns[4],
                      help=f"Gold built {ui.fmt_time(built)}; latest session in gold "
                           f"{ui.fmt_time((fresh or {}).get('data_as_of'))}.")


def _dag_health() -> None:
    st.subheader("DAG health")
    health = ui.load(airflow_api.dag_health, airflow_api.get_client())
    if health is not None:
        if not health:
            ui.empty("Airflow knows no DAG yet: is the DAG folder `dags/`?")
            return
        frame = pd.DataFrame(health)
        frame["last run"] = frame["last_state"].map(ui.with_icon)
        frame["when"] = frame["last_run_at"].map(ui.fmt_ago)
        frame["duration"] = frame["last_duration_seconds"].map(ui.fmt_duration)
        frame["paused"] = frame["is_paused"].map({True: "⏸️ paused", False: "▶️ active"})
        ui.table(frame[["dag_id", "paused", "schedule", "last run", "when", "duration"]])
        return
    st.caption("Last runs recorded in ops.pipeline_runs instead:")
    recorded = ui.load(runs.latest_runs_per_dag)
    if recorded is None:
        return
    if recorded.empty:
        ui.empty("No pipeline run recorded yet.")
        return
    recorded["last run"] = recorded["status"].map(ui.with_icon)
    recorded["when"] = recorded["started_at"].map(ui.fmt_ago)
    recorded["duration"] = recorded["duration_seconds"].map(ui.fmt_duration)
    ui.table(recorded[["dag_id", "last run", "when", "duration", "run_id"]])


def _attention() -> None:
    st.subheader("Needs attention")
    items = ui.load(attention.needs_attention)
    if items is None:
        return
    if items.empty:
        st.success("✅ Nothing needs attention: no failed run, failing critical check or "
                   "rejected file in the last 7 days.")
        return
    items["when"] = items["when"].map(ui.fmt_ago)
    ui.table(items)


@st.fragment(run_every=REFRESH_SECONDS)
def live() -> None:
    ui.start_run()
    _quality_tiles()
    _volume_tiles()
    _dag_health()
    _attention()


live()
