"""Lineage: where each table comes from and what checks it, with its rows, age and outcome."""

import streamlit as st

from console import ui
from console.data import lineage, observability
from etl.lineage import to_dot

st.title("🧬 Lineage")
st.caption("Raw file patterns → bronze (PostgreSQL and MongoDB) → silver → gold → Soda "
           "checks, drawn from the SQL models' headers, the DAG assets and the checks files. "
           "Each box shows its last row count and age; each checks box its current outcome.")

graph = ui.load(lineage.graph)
if graph is None:
    st.stop()
ages = ui.load(observability.table_ages)
stale = set() if ages is None else set(ages.loc[ages["is_stale"], "table_name"])
found = ui.load(lineage.annotations, stale)
notes, states = found if found is not None else ({}, {})

choices = [n.node_id for n in graph.of_kind("raw", "bronze", "mongo", "silver", "gold")]
selected = st.selectbox("Node", choices, key="lineage_node",
                        index=choices.index("gold.kpi_summary") if "gold.kpi_summary" in choices
                        else 0, format_func=lambda n: f"{graph.nodes[n].kind} · {graph.nodes[n].label}")
st.graphviz_chart(to_dot(graph, notes, states, selected), width="stretch")

node = graph.nodes[selected]
st.subheader(f"{node.label}")
left, right = st.columns(2)
with left:
    st.markdown(f"**Built by** `{graph.built_by.get(selected, 'no DAG found')}`"
                + (f" · model `{node.model}` ({node.detail})" if node.model else "")
                + (f" · patterns `{node.detail}`" if node.kind == "raw" else ""))
    st.page_link("app_pages/pipelines.py", label="Open the DAG on the Pipelines page", icon="🛠️")
with right:
    up = ", ".join(f"`{n}`" for n in graph.upstream(selected)) or "nothing (a source)"
    down = ", ".join(f"`{n}`" for n in graph.downstream(selected)
                     if not n.startswith("checks:")) or "nothing"
    st.markdown(f"**Reads** {up}  \n**Read by** {down}")

checks_node = graph.nodes.get(f"checks:{node.table}")
if checks_node:
    st.markdown(f"**Checks** ({checks_node.detail})")
checks = ui.load(lineage.checks_of, node.table) if checks_node else None
if checks is not None:
    if checks.empty:
        ui.empty("No check result recorded for this table yet.")
    else:
        ui.table(checks.assign(outcome=checks["outcome"].map(ui.with_icon))[
            ["check_name", "outcome", "measured_value", "thresholds", "dimension",
             "is_critical", "run_id", "measured_at"]])

if node.model:
    st.markdown(f"**Last runs of `{node.model}`**")
    runs = ui.load(lineage.model_runs_of, node.model)
    if runs is not None:
        if runs.empty:
            ui.empty("This model has not run yet.")
        else:
            runs["status"] = runs["status"].map(ui.with_icon)
            runs["duration"] = runs["duration_seconds"].map(ui.fmt_duration)
            ui.table(runs.drop(columns="duration_seconds"))
elif node.kind in ("raw", "bronze"):
    entity = selected.split(":", 1)[1] if node.kind == "raw" else node.table.split(".", 1)[1]
    st.markdown(f"**Last files ingested for `{entity}`**")
    files = ui.load(lineage.files_of, entity)
    if files is not None:
        if files.empty:
            ui.empty("No file ingested for this entity yet.")
        else:
            ui.table(files.assign(status=files["status"].map(ui.with_icon)))
