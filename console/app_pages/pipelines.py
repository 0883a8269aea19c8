"""Pipelines: every DAG, its runs, task instances and logs; the executor, its workers and
queue; trigger, pause, clear."""

import pandas as pd
import streamlit as st

from console import actions, airflow_api, auth, charts, executor, ui
from console.data import audit, runs

st.title("🛠️ Pipelines")

client = airflow_api.get_client()


def _remember(result: actions.ActionResult) -> None:
    """Keep the result across the rerun that shows Airflow's new state."""
    st.session_state["last_action_result"] = result
    st.rerun()


def _show_result(result: actions.ActionResult) -> None:
    show = st.success if result.ok else (st.warning if result.outcome == "rejected" else st.error)
    show(("✅ " if result.ok else "⚠️ ") + result.message)
    if result.audit_error:
        st.error(f"🗄️ The action was not written to the audit log: {result.audit_error}")
    else:
        st.caption(f"Recorded in the audit log as #{result.audit_id}.")


def _dag_list() -> list[dict] | None:
    health = ui.load(airflow_api.dag_health, client)
    if health is None:
        return None
    if not health:
        ui.empty("Airflow knows no DAG yet: is the DAG folder `dags/`?")
        return health
    frame = pd.DataFrame(health)
    frame["paused"] = frame["is_paused"].map({True: "⏸️ paused", False: "▶️ active"})
    frame["last run"] = frame["last_state"].map(ui.with_icon)
    frame["when"] = frame["last_run_at"].map(ui.fmt_ago)
    frame["next run"] = frame["next_run_at"].map(ui.fmt_time)
    ui.table(frame[["dag_id", "paused", "schedule", "last run", "when", "next run"]])
    return health


def _executor() -> None:
    view = ui.load(executor.summary, client)
    if view is None:
        return
    name = view.executor or "not exposed"
    cols = st.columns(4)
    cols[0].metric("Executor", name, help=None if view.executor else
                   "Airflow's API hides its configuration ([api] expose_config = False).")
    cols[1].metric("Workers seen", len(view.workers),
                   help=f"Hosts that ran the last {executor.RECENT_TASKS} task tries.")
    cols[2].metric("Queued tasks", view.queued, help="Waiting for a free worker slot.")
    cols[3].metric("Running tasks", view.running)
    if view.workers.empty:
        ui.empty("No task has reported its worker yet.")
        return
    frame = view.workers.copy()
    frame["last started"] = frame["last started"].map(ui.fmt_ago)
    ui.table(frame)


def _runs(dag_id: str) -> list[dict]:
    dag_runs = ui.load(client.dag_runs, dag_id, 25)
    if not dag_runs:
        if dag_runs is not None:
            ui.empty(f"{dag_id} has not run yet.")
        return []
    frame = pd.DataFrame(dag_runs)
    ui.chart(charts.run_durations(frame, f"Duration of the last {len(frame)} runs"),
             key="durations")
    frame["state"] = frame["state"].map(ui.with_icon)
    frame["started"] = frame["start_date"].map(ui.fmt_time)
    frame["duration"] = frame["duration_seconds"].map(ui.fmt_duration)
    ui.table(frame[["dag_run_id", "state", "run_type", "started", "duration", "triggered_by"]])
    return dag_runs


def _task_instances(dag_id: str, run_id: str) -> list[dict]:
    tasks = ui.load(client.task_instances, dag_id, run_id)
    if not tasks:
        if tasks is not None:
            ui.empty("This run has no task instance yet.")
        return []
    frame = pd.DataFrame(tasks)
    frame["state"] = frame["state"].map(ui.with_icon)
    frame["try"] = frame["try_number"].astype(str) + " / " + (frame["max_tries"] + 1).astype(str)
    frame["duration"] = frame["duration_seconds"].map(ui.fmt_duration)
    frame["started"] = frame["start_date"].map(ui.fmt_time)
    frame["worker"] = frame["hostname"] if "hostname" in frame else None
    ui.table(frame[["task_id", "state", "try", "duration", "started", "worker", "operator"]])
    return tasks


def _log(dag_id: str, run_id: str, tasks: list[dict]) -> None:
    if not auth.can_see_details():
        st.info("🔐 Sign in (sidebar) to read task logs: they can hold personal data and "
                "database addresses.")
        return
    task_ids = [t["task_id"] for t in tasks]
    left, right = st.columns([3, 1])
    task_id = left.selectbox("Task", task_ids, key="log_task")
    task = next(t for t in tasks if t["task_id"] == task_id)
    tries = list(range(max(task["try_number"], 1), 0, -1))
    try_number = right.selectbox("Try", tries, key=f"log_try_{task_id}")
    text = ui.load(client.log_tail, dag_id, run_id, task_id, try_number, 100, task["map_index"])
    if text is not None:
        st.code(text or "(empty log)", language="log")


def _actions(dag: dict, run_id: str | None, tasks: list[dict]) -> None:
    st.subheader("Actions")
    user = auth.current_user()
    if not user:
        st.info("🔐 Sign in (sidebar) to trigger, pause or clear. Reading needs no sign-in.")
        return
    last = st.session_state.pop("last_action_result", None)
    if last is not None:
        _show_result(last)
    dag_id = dag["dag_id"]
    declared = ui.load(client.dag_params, dag_id)
    trigger_col, other_col = st.columns([3, 2])
    with trigger_col, st.form("trigger_form"):
        st.markdown(f"**Trigger `{dag_id}`**")
        names = ", ".join(sorted(declared)) if declared else "none declared"
        conf_text = st.text_area("Params (JSON object)", value=actions.default_conf(declared or {}),
                                 height=120, key=f"trigger_conf_{dag_id}",
                                 help=f"Checked before sending. Params of this DAG: {names}. "
                                      "Empty values mean the settings' values.")
        # Without the DAG's declared params nothing can be validated: do not send blind.
        submitted = st.form_submit_button("▶️ Trigger run", key="trigger_submit",
                                          disabled=declared is None)
    if submitted:
        _remember(actions.trigger(client, user, dag_id, conf_text, declared or {}))
    with other_col:
        paused = dag["is_paused"]
        label = "▶️ Unpause DAG" if paused else "⏸️ Pause DAG"
        if st.button(label, key="pause_toggle"):
            _remember(actions.set_paused(client, user, dag_id, not paused))
        failed = [t["task_id"] for t in tasks if t["state"] in ("failed", "upstream_failed")]
        help_text = (f"Clears {', '.join(failed)} in {run_id} so Airflow runs them again."
                     if failed else "The selected run has no failed task.")
        if st.button("🔁 Clear failed tasks", key="clear_failed", disabled=not (run_id and failed),
                     help=help_text):
            _remember(actions.clear_failed(client, user, dag_id, run_id))


def _recorded_runs() -> None:
    st.caption("Runs recorded in ops.pipeline_runs:")
    recorded = ui.load(runs.recent_runs, 50)
    if recorded is None:
        return
    if recorded.empty:
        ui.empty("No pipeline run recorded yet.")
        return
    recorded["status"] = recorded["status"].map(ui.with_icon)
    recorded["duration"] = recorded["duration_seconds"].map(ui.fmt_duration)
    ui.table(recorded[["run_id", "dag_id", "status", "started_at", "duration", "tasks_succeeded",
                   "tasks_failed", "error"]])


dags = _dag_list()
st.subheader("Executor and workers")
_executor()
if dags is None:
    _recorded_runs()
elif dags:
    dag_ids = [d["dag_id"] for d in dags]
    dag_id = st.selectbox("DAG", dag_ids, key="dag")
    dag = next(d for d in dags if d["dag_id"] == dag_id)
    st.subheader(f"Runs of {dag_id}")
    dag_runs = _runs(dag_id)
    run_id, tasks = None, []
    if dag_runs:
        run_id = st.selectbox("Run", [r["dag_run_id"] for r in dag_runs], key="run")
        st.subheader("Task instances")
        tasks = _task_instances(dag_id, run_id)
        if tasks:
            with st.expander("📜 Task log (tail)", expanded=False):
                _log(dag_id, run_id, tasks)
    _actions(dag, run_id, tasks)

st.subheader("Console actions (audit log)")
audit_log = ui.load(audit.recent_actions, 20)
if audit_log is not None:
    if audit_log.empty:
        ui.empty("No console action yet.")
    else:
        audit_log["outcome"] = audit_log["outcome"].map({"success": "✅ success", "failure": "❌ failure",
                                                 "rejected": "⚠️ rejected", "pending": "⏳ pending"})
        ui.table(audit_log[["acted_at", "actor", "action", "target", "outcome", "detail"]])
