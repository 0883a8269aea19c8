"""Data quality: scores per layer over time, current check results, a check's history and failed rows."""

import pandas as pd
import streamlit as st

from console import auth, charts, flags, ui
from console.data import quality

st.title("🧪 Data quality")

scores = ui.load(quality.latest_scores)
if scores is not None and not scores.empty:
    for column, row in zip(st.columns(len(scores)), scores.to_dict("records")):
        change = None if pd.isna(row["score_change"]) else round(float(row["score_change"]), 1)
        ui.metric(f"{row['layer'].title()} score", row["score"], digits=1, delta=change,
                  container=column,
                  delta_description="since previous run" if change is not None else None,
                  help=f"{row['checks_pass']} pass · {row['checks_warn']} warn · "
                       f"{row['checks_fail']} fail · {row['critical_failures']} critical")

ui.chart_or_empty(ui.load(quality.scores_history), charts.scores_over_time, key="scores",
                  empty_message="No quality run recorded yet: run `medallion check` or the DAGs.")

flags.anomaly_flags(("quality_score", "rejected_rows"), key="dq")

st.subheader("Current check results")
results = ui.load(quality.current_check_results)
if results is not None and not results.empty:
    f1, f2, f3, f4 = st.columns(4)
    layers = f1.multiselect("Layer", sorted(results["layer"].dropna().unique()), key="dq_layer")
    tables = f2.multiselect("Table", sorted(results["table_name"].dropna().unique()),
                            key="dq_table")
    outcomes = f3.multiselect("Outcome", ["pass", "warn", "fail", "error"], key="dq_outcome")
    dimensions = f4.multiselect("Dimension", sorted(results["dimension"].dropna().unique()),
                                key="dq_dimension")
    shown = quality.filter_check_results(results, layers, tables, outcomes, dimensions)
    view = shown.assign(outcome=shown["outcome"].map(ui.with_icon),
                        critical=shown["is_critical"].map({True: "🛑 critical", False: ""}))
    st.caption(f"{len(shown)} of {len(results)} checks")
    ui.table(view[["layer", "table_name", "check_name", "outcome", "measured_value",
                   "thresholds", "dimension", "critical", "failed_row_samples", "measured_at"]],
             height=320)

    st.subheader("A check's history")
    options = quality.checks_for_review(shown if not shown.empty else results)
    choice = st.selectbox("Check", options["label"].tolist(), key="dq_check")
    picked = options[options["label"] == choice].iloc[0]
    check_runs = ui.load(quality.check_history, picked["table_name"], picked["check_name"])
    if check_runs is not None and not check_runs.empty:
        left, right = st.columns([3, 2])
        with left:
            ui.chart(charts.check_history(check_runs, picked["check_name"]), key="check_history")
        with right:
            ui.table(check_runs.assign(outcome=check_runs["outcome"].map(ui.with_icon))[
                ["measured_at", "outcome", "measured_value", "run_id"]])
    st.markdown("**Failed-row samples** (latest result)")
    samples = ui.load(quality.failed_rows, int(picked["result_id"]))
    if samples is not None:
        if samples.empty:
            ui.empty("No failed-row sample for this result.")
        else:
            ui.table(auth.redact_personal(samples))
elif results is not None:
    ui.empty("No check result recorded yet.")
