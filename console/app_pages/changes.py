"""What changed: pick two pipeline runs, see their differences (KPIs, rows, checks, files)."""

import pandas as pd
import streamlit as st

from console import ui
from console.data import observability, runs
from etl.observability.changes import UnknownRun

st.title("🔀 What changed")
st.caption("Pick two pipeline runs: the earlier one is always *before*, whichever order "
           "they are picked in.")


def _label(run: dict) -> str:
    source = run.get("dag_id") or f"medallion run ({run.get('trigger')})"
    return (f"{run['run_id']} · {source} · {ui.with_icon(run['status'])} · "
            f"{ui.fmt_time(run['started_at'])}")


def _pick(run_ids: list[str], labels: dict[str, str]) -> tuple[str, str]:
    """The two runs: from the link's query params first, else the latest and the one before."""
    params = st.query_params
    after = params.get("after") if params.get("after") in run_ids else run_ids[0]
    before = params.get("before") if params.get("before") in run_ids else None
    if before is None:
        before = ui.load(observability.previous_run, after) or (
            run_ids[1] if len(run_ids) > 1 else run_ids[0])
    # A link (Overview's "since the previous run") sets the pair once; then the boxes rule.
    if st.session_state.get("changes_link") != (before, after):
        st.session_state["changes_before"], st.session_state["changes_after"] = before, after
    left, right = st.columns(2)
    picked_before = left.selectbox("Before", run_ids, key="changes_before",
                                   format_func=labels.get)
    picked_after = right.selectbox("After", run_ids, key="changes_after", format_func=labels.get)
    st.query_params.update({"before": picked_before, "after": picked_after})
    st.session_state["changes_link"] = (picked_before, picked_after)
    return picked_before, picked_after


def _kpis(frames: dict[str, pd.DataFrame], has_kpis: bool) -> None:
    st.subheader("Gold KPIs")
    kpis = frames["kpis"]
    if not has_kpis:
        ui.empty("One of the runs kept no KPI snapshot (gold not built in it, or it ran "
                 "before snapshots were kept).")
        return
    numeric = kpis[kpis["change"].notna()].to_dict("records")
    per_row = 4  # wide enough that no value, label or delta is cut off
    for start in range(0, len(numeric), per_row):
        for column, row in zip(st.columns(per_row), numeric[start:start + per_row]):
            after, pct = float(row["after"]), row["change_pct"]
            digits = 1 if not after.is_integer() and abs(after) < 1000 else 0
            ui.metric(row["kpi"].replace("_", " "), after, digits=digits, container=column,
                      delta=ui.compact_number(row["change"], digits)
                      + ("" if pd.isna(pct) else f" ({pct:+.1f} %)"),
                      delta_color="normal" if row["changed"] else "off",
                      help=f"Before: {ui.exact_number(row['before'], 2)}; "
                           f"after: {ui.exact_number(row['after'], 2)}")
    others = kpis[kpis["change"].isna()]
    if not others.empty:
        ui.table(others[["kpi", "before", "after"]].astype(str))


def _rows(frames: dict[str, pd.DataFrame]) -> None:
    st.subheader("Rows per layer and table")
    layers, tables = frames["layers"], frames["tables"]
    if layers["after"].notna().any() or layers["before"].notna().any():
        ui.table(layers.drop(columns="table"))
    if tables.empty:
        ui.empty("Neither run recorded rows per table.")
    else:
        ui.table(tables)


def _checks(frames: dict[str, pd.DataFrame]) -> None:
    st.subheader("Checks whose outcome flipped")
    checks = frames["checks"]
    if checks.empty:
        st.success("✅ No check changed its outcome between these runs.")
        return
    ui.table(checks.assign(before=checks["before"].map(ui.with_icon),
                           after=checks["after"].map(ui.with_icon)))


def _files(frames: dict[str, pd.DataFrame]) -> None:
    st.subheader("Files that arrived between them")
    files = frames["files"]
    if files.empty:
        ui.empty("No file arrived between these runs.")
        return
    st.caption(f"{len(files)} file(s), {ui.fmt_int(files['rows_loaded'].sum())} rows loaded.")
    ui.table(files.assign(status=files["status"].map(ui.with_icon)), height=300)


recent = ui.load(runs.recent_runs, 200)
if recent is None:
    st.stop()
if len(recent) < 2:
    ui.empty("At least two pipeline runs are needed to compare.")
    st.stop()
records = recent.to_dict("records")
labels = {r["run_id"]: _label(r) for r in records}
before, after = _pick([r["run_id"] for r in records], labels)
if before == after:
    st.info("ℹ️ Pick two different runs.")
    st.stop()
try:
    found = ui.load(observability.run_diff, before, after)
except UnknownRun as exc:
    st.warning(f"⚠️ {exc}")
    st.stop()
if found is None:
    st.stop()
st.markdown(f"**Before** {labels[found.before.run_id]}  \n**After** {labels[found.after.run_id]}")
frames = observability.diff_frames(found)
_kpis(frames, found.has_kpis)
_rows(frames)
_checks(frames)
_files(frames)
