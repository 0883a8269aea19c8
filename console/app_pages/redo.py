"""Redo work: a full refresh of silver and gold, a re-ingest of one raw sub-folder, a re-run
of a failed DAG run from its failed tasks; signed in, audited, followed until it finishes."""

import pandas as pd
import streamlit as st

from console import airflow_api, auth, operations, ui
from console.data import audit

PROGRESS_SECONDS = 5
_WATCH = "redo_watch"        # {"dag_id", "dag_run_id", "what", "finished"}
_RESULT = "redo_result"

st.title("🔁 Redo work")
st.caption("Each action is checked before it is sent, recorded in the audit log, and "
           "followed here until its run finishes.")

user = auth.current_user()
if not user:
    st.info("🔐 Sign in (sidebar) to redo work. Every action is recorded with your name.")
    st.stop()
client = airflow_api.get_client()


def _started(result, dag_id: str, dag_run_id: str | None, what: str) -> None:
    st.session_state[_RESULT] = result
    if dag_run_id:
        st.session_state[_WATCH] = {"dag_id": dag_id, "dag_run_id": dag_run_id, "what": what,
                                    "finished": False}
    st.rerun()


def _show_progress(watch: dict) -> dict | None:
    progress = ui.load(operations.run_progress, client, watch["dag_id"], watch["dag_run_id"])
    if progress is None:
        return None
    total = progress["total"]
    label = (f"{watch['what']}: `{watch['dag_id']}` run `{watch['dag_run_id']}` is "
             f"{ui.with_icon(progress['state'])} ({progress['done']}/{total or '?'} tasks done)")
    st.progress(progress["done"] / total if total else 0.0, text=label)
    if progress["tasks"]:
        ui.table(pd.DataFrame([{"task": t["task_id"], "state": ui.with_icon(t["state"]),
                   "duration": ui.fmt_duration(t["duration_seconds"])}
                               for t in progress["tasks"]]))
    return progress


@st.fragment(run_every=PROGRESS_SECONDS)
def _follow() -> None:
    """Polls the watched run until it finishes, then hands back to a full rerun."""
    ui.start_run()
    watch = st.session_state[_WATCH]
    progress = _show_progress(watch)
    if progress is not None and progress["finished"]:
        watch["finished"] = True
        st.rerun()


def _progress_section() -> None:
    watch = st.session_state.get(_WATCH)
    if not watch:
        return
    st.subheader("Progress")
    if not watch["finished"]:
        st.caption(f"Checks Airflow every {PROGRESS_SECONDS} s until the run finishes.")
        _follow()
        return
    progress = _show_progress(watch)
    if progress is not None:
        (st.success if progress["state"] == "success" else st.error)(
            f"{ui.icon(progress['state'])} {watch['what']} finished: run "
            f"`{watch['dag_run_id']}` {progress['state']}.")
    if st.button("Stop following", key="redo_forget"):
        st.session_state.pop(_WATCH, None)
        st.rerun()


def _full_refresh() -> None:
    st.subheader("Full refresh of silver and gold")
    st.caption(f"Triggers `{operations.FULL_REFRESH_DAG}` with `full_refresh: true`: silver is "
               "rebuilt from all of bronze, then gold and every check.")
    declared = ui.load(client.dag_params, operations.FULL_REFRESH_DAG)
    if st.button("♻️ Full refresh", key="redo_full_refresh", disabled=declared is None,
                 help="Disabled while Airflow cannot tell the DAG's params."):
        result, run_id = operations.full_refresh(client, user, declared or {})
        _started(result, operations.FULL_REFRESH_DAG, run_id, "Full refresh")


def _reingest() -> None:
    st.subheader("Re-ingest one folder")
    st.caption(f"Triggers `{operations.REINGEST_DAG}` on one folder inside RAW_DATA_PATH "
               "(relative to it); the bronze, silver and gold DAGs follow on its assets.")
    folders = operations.raw_subfolders()
    raw_dir = st.text_input("Folder (relative to RAW_DATA_PATH)", key="reingest_dir",
                            placeholder=folders[0] if folders else "batch-7")
    if folders:
        st.caption("Folders: " + ", ".join(f"`{f}`" for f in folders[:12])
                   + (" …" if len(folders) > 12 else ""))
    declared = ui.load(client.dag_params, operations.REINGEST_DAG)
    if st.button("📥 Re-ingest folder", key="redo_reingest", disabled=declared is None):
        result, run_id = operations.reingest(client, user, raw_dir, declared or {})
        _started(result, operations.REINGEST_DAG, run_id, f"Re-ingest of {raw_dir or '.'}")


def _rerun_failed() -> None:
    st.subheader("Re-run a failed run from its failed tasks")
    dags = ui.load(client.list_dags)
    if not dags:
        return
    left, right = st.columns(2)
    dag_id = left.selectbox("DAG", [d["dag_id"] for d in dags], key="redo_dag")
    runs = ui.load(client.dag_runs, dag_id, 25)
    failed = [r["dag_run_id"] for r in runs or [] if r["state"] == "failed"]
    if not failed:
        right.info(f"ℹ️ No failed run among the last {len(runs or [])} runs of {dag_id}.")
        return
    run_id = right.selectbox("Failed run", failed, key="redo_run")
    tasks = ui.load(client.task_instances, dag_id, run_id) or []
    to_clear = [t["task_id"] for t in tasks if t["state"] in ("failed", "upstream_failed")]
    st.caption("Will run again: " + (", ".join(f"`{t}`" for t in to_clear) or "no failed task"))
    if st.button("🔁 Re-run from failed tasks", key="redo_rerun", disabled=not to_clear):
        result = operations.rerun_failed(client, user, dag_id, run_id)
        _started(result, dag_id, run_id if result.ok else None, "Re-run")


last = st.session_state.pop(_RESULT, None)
if last is not None:
    ui.show_result(last)
_progress_section()
_full_refresh()
_reingest()
_rerun_failed()

st.subheader("Recent console actions")
recent = ui.load(audit.recent_actions, 10)
if recent is not None and not recent.empty:
    ui.table(recent[["acted_at", "actor", "action", "target", "outcome", "detail"]])
