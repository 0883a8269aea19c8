"""The anomaly flags of a page (Volumes: rows written; Data quality: scores and rejects):
a list of the flags and the history of the one picked, with its expected band."""

from __future__ import annotations

import streamlit as st

from console import charts, ui
from console.data import observability


def anomaly_flags(metrics: tuple[str, ...], key: str) -> None:
    """Draw the flags of `metrics` (open ones, or all with the checkbox) and one's history."""
    st.subheader("📈 Anomaly flags")
    show_all = st.checkbox("Include closed flags (recovered or acknowledged)",
                           key=f"{key}_all")
    flags = ui.load(observability.anomalies_of, metrics, not show_all)
    if flags is None:
        return
    if flags.empty:
        st.success("✅ No open anomaly: every recent run is within the usual range "
                   "of the runs before it.")
        return
    view = flags.assign(
        state=flags["resolution"].fillna("open").map(
            {"open": "🚩 open", "recovered": "✅ recovered", "acknowledged": "👀 acknowledged"}),
        when=flags["run_at"].map(ui.fmt_ago))
    ui.table(view[["state", "line", "run_id", "when", "resolved_by"]],
             column_config={"line": "flag"})
    labels = {int(r["anomaly_id"]): f"{r['label']} · run {r['run_id']}"
              for r in flags.to_dict("records")}
    picked = st.selectbox("History of", list(labels), format_func=labels.get,
                          key=f"{key}_anomaly")
    flag = flags[flags["anomaly_id"] == picked].iloc[0].to_dict()
    points = ui.load(observability.anomaly_history, flag["subject"], flag["metric"],
                     flag["reason"])
    if points is not None and not points.empty:
        ui.chart(charts.anomaly_history(points, flag), key=f"{key}_anomaly_chart")
