"""Volumes and latency: rows per layer and table, the ingestion log, the accounting funnel, time per stage."""

import streamlit as st

from console import charts, flags, ui
from console.data import ingestion, runs

st.title("📦 Volumes & latency")

flags.anomaly_flags(("rows_written",), key="volumes")

# Only the open tab runs its queries and sends its charts (a first render draws two).
tab_rows, tab_files, tab_funnel, tab_time = st.tabs(
    ["Rows per layer", "Ingestion log", "Accounting funnel", "Latency & stage times"],
    key="volumes_tab", on_change="rerun")

if tab_rows.open:
    with tab_rows:
        ui.chart_or_empty(ui.load(runs.layer_rows_history), charts.layer_rows, key="layer_rows",
                          empty_message="No run has measured its rows yet.")
        tables = ui.load(runs.table_rows_history)
        if tables is not None and not tables.empty:
            ui.chart(charts.table_rows(tables.dropna(subset=["rows"])), key="table_rows")

if tab_files.open:
    with tab_files:
        counts = ui.load(ingestion.ingestion_status_counts)
        if counts is not None and not counts.empty:
            for column, row in zip(st.columns(len(counts)), counts.to_dict("records")):
                ui.metric(ui.with_icon(row["status"]), row["files"], suffix=" files",
                          container=column, delta=f"{ui.compact_number(row['rows_loaded'])} rows",
                          delta_color="off", delta_arrow="off",
                          help=f"{ui.fmt_int(row['files'])} files, "
                               f"{ui.fmt_int(row['rows_loaded'])} rows loaded")
        statuses = st.multiselect("Status", ["loaded", "skipped_duplicate", "rejected", "ignored"],
                                  key="ingestion_status")
        files = ui.load(ingestion.ingestion_log, statuses)
        if files is not None:
            if files.empty:
                ui.empty("No file ingested yet.")
            else:
                files["status"] = files["status"].map(ui.with_icon)
                ui.table(files[["started_at", "source_file", "entity", "status", "rows_loaded",
                                "encoding", "file_format", "compression", "file_size_bytes",
                                "seconds", "error"]], height=420)

if tab_funnel.open:
    with tab_funnel:
        funnel = ui.load(ingestion.accounting_funnel)
        if funnel is not None:
            if funnel.empty:
                ui.empty("No accounting recorded yet (it is written by each transform).")
            else:
                ui.chart(charts.funnel(funnel), key="funnel")
                summary = ui.load(ingestion.accounting_summary)
                if summary is not None:
                    summary["bronze = silver + superseded + rejected"] = summary["balanced"].map(
                        {True: "✅ holds", False: "❌ broken"})
                    ui.table(summary.drop(columns="balanced"))

if tab_time.open:
    with tab_time:
        ui.chart_or_empty(ui.load(runs.latency_history), charts.latency, key="latency",
                          empty_message="No run has recorded its duration yet.")
        stages = ui.load(runs.stage_times)
        if stages is not None and not stages.empty:
            ui.chart(charts.stage_times(stages), key="stages")
        transform_runs = ui.load(runs.model_run_ids)
        if transform_runs is not None and not transform_runs.empty:
            run_id = st.selectbox("Transform run", transform_runs["run_id"].tolist(),
                                  key="model_run")
            models = ui.load(runs.models_of_run, run_id)
            if models is not None and not models.empty:
                ui.chart(charts.model_times(models, f"Time per model in {run_id}"), key="models")
                # Incremental or full, and what each model read and changed (ops.model_runs).
                ui.table(models[["model", "status", "mode", "duration_seconds", "rows_read",
                                 "rows_changed", "rows"]].rename(columns={
                    "duration_seconds": "seconds", "rows_read": "rows read",
                    "rows_changed": "rows changed", "rows": "rows in table"}))
