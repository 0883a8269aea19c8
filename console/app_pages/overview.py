"""Overview: is the pipeline healthy right now, and what needs a person."""

import pandas as pd
import streamlit as st

from console import airflow_api, auth, operations, ui
from console.data import attention, observability, quality, reader, runs

REFRESH_SECONDS = 30
ANOMALIES_SHOWN = 10
_ACK_RESULT = "overview_ack_result"

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


def _acknowledge(anomaly_id: int, label: str) -> None:
    user = auth.current_user()
    if user:  # the button is only drawn for a signed-in user; re-checked at the click
        st.session_state[_ACK_RESULT] = operations.acknowledge_anomaly(user, anomaly_id, label)


def _anomalies() -> int:
    """The open anomaly flags, one line each, with an acknowledge button; returns how many."""
    flags = ui.load(observability.open_anomalies)
    result = st.session_state.pop(_ACK_RESULT, None)
    if result is not None:
        ui.show_result(result)
    if flags is None or flags.empty:
        return 0
    user = auth.current_user()
    st.markdown(f"**📈 Anomalies** ({len(flags)} open) — outside the usual range of recent runs")
    for row in flags.head(ANOMALIES_SHOWN).to_dict("records"):
        text, button = st.columns([6, 1], vertical_alignment="center")
        arrow = "🔺" if row["direction"] == "above" else "🔻"
        text.markdown(f"{arrow} {row['line']} · run `{row['run_id']}`, "
                      f"{ui.fmt_ago(row['run_at'])}")
        if user:
            button.button("Acknowledge", key=f"ack_{row['anomaly_id']}",
                          on_click=_acknowledge, args=(int(row["anomaly_id"]), row["label"]),
                          help="Close this flag: you looked at it and it is expected. Audited.")
    if len(flags) > ANOMALIES_SHOWN:
        st.caption(f"… and {len(flags) - ANOMALIES_SHOWN} more on the Volumes and "
                   "Data quality pages.")
    if not user:
        st.caption("🔐 Sign in (sidebar) to acknowledge a flag.")
    return len(flags)


def _attention() -> None:
    st.subheader("Needs attention")
    flagged = _anomalies()
    items = ui.load(attention.needs_attention)
    if items is None:
        return
    if items.empty:
        if not flagged:
            st.success("✅ Nothing needs attention: no anomaly, failed run, failing critical "
                       "check or rejected file in the last 7 days.")
        return
    items["when"] = items["when"].map(ui.fmt_ago)
    ui.table(items)


def _highlight_stale(row: pd.Series) -> list[str]:
    return ["background-color: #fde2e1" if row["state"].startswith("🔴") else ""] * len(row)


def _freshness() -> None:
    st.subheader("Gold freshness")
    ages = ui.load(observability.table_ages)
    if ages is None:
        return
    if ages.empty:
        ui.empty("No gold model found in sql/gold.")
        return
    stale = int(ages["is_stale"].sum())
    st.caption(f"{stale} of {len(ages)} gold tables older than allowed." if stale
               else f"All {len(ages)} gold tables are within their age limit.")
    view = pd.DataFrame({
        "state": ages["is_stale"].map({True: "🔴 stale", False: "🟢 fresh"}),
        "table": ages["table_name"],
        "age": ages["age_hours"].map(lambda h: "never built" if pd.isna(h)
                                     else ui.fmt_duration(h * 3600)),
        "limit": ages["max_age_hours"].map(lambda h: f"{h:g} h"),
        "used": (100 * ages["age_hours"] / ages["max_age_hours"]).clip(upper=100).fillna(100),
        "last built": ages["last_built_at"].map(ui.fmt_time),
    })
    st.dataframe(view.style.apply(_highlight_stale, axis=1), hide_index=True, width="stretch",
                 column_config={"used": st.column_config.ProgressColumn(
                     "age / limit", format="%.0f %%", min_value=0, max_value=100)})


def _since_previous() -> None:
    latest = ui.load(runs.recent_runs, 1)
    if latest is None or latest.empty:
        return
    after = latest.iloc[0]["run_id"]
    before = ui.load(observability.previous_run, after)
    if before:
        st.page_link("app_pages/changes.py", label=f"What changed since the previous run "
                     f"({before} → {after})", icon="🔀",
                     query_params={"before": before, "after": after})


@st.fragment(run_every=REFRESH_SECONDS)
def live() -> None:
    ui.start_run()
    _quality_tiles()
    _volume_tiles()
    _since_previous()
    _dag_health()
    _attention()
    _freshness()


live()
