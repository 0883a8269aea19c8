"""Operator actions of issue 16, audited the way `console.actions` audits its own: the audit
row is written ahead (an action whose row cannot be written is not taken), then closed
with the outcome; invalid input is never sent (one `rejected` row).

- acknowledge an anomaly;
- redo work: a full refresh of silver and gold, a re-ingest of one sub-folder of
  RAW_DATA_PATH, a re-run of a failed DAG run from its failed tasks; `run_progress`
  follows the run they started until it finishes.
"""

from __future__ import annotations

import json
import logging

from console.actions import (ActionResult, InvalidParams, audited, rejected_action, clear_failed,
                             validate_conf)
from console.data import observability, reader
from etl.errors import ConfigError
from etl.ingest.session import confined_raw_dir
from etl.settings import Settings, get_settings

log = logging.getLogger(__name__)


def acknowledge_anomaly(actor: str, anomaly_id: int, label: str) -> ActionResult:
    """Close an open anomaly on `actor`'s word, audited."""

    def act() -> tuple[bool, str]:
        try:
            done = observability.acknowledge(anomaly_id, actor)
        except reader.DataUnavailable as exc:
            return False, str(exc)
        if not done:
            return False, f"Anomaly #{anomaly_id} ({label}) was already closed."
        return True, f"Acknowledged: {label}."

    return audited(actor, "acknowledge_anomaly", f"anomaly/{int(anomaly_id)}",
                    {"anomaly_id": int(anomaly_id), "label": label}, act)


# ------------------------------------------------------------------ redo work

FULL_REFRESH_DAG = "dag_4_data_transformer_silver"
REINGEST_DAG = "dag_2_data_ingesters"
FINISHED_STATES = ("success", "failed")


def _trigger(client, actor: str, action: str, dag_id: str, conf: dict,
             declared: dict[str, dict]) -> tuple[ActionResult, str | None]:
    """Check `conf` against the DAG's declared params, trigger, audit; (result, run id)."""
    try:
        validate_conf(json.dumps(conf), declared)
    except InvalidParams as exc:
        return rejected_action(actor, action, dag_id, {"conf": conf}, f"Not sent: {exc}"), None
    started: list[str] = []

    def act() -> tuple[bool, str]:
        run = client.trigger(dag_id, conf)
        started.append(run["dag_run_id"])
        return True, (f"Triggered {dag_id}: run {run['dag_run_id']} is "
                      f"{run.get('state') or 'queued'}.")

    result = audited(actor, action, dag_id, {"conf": conf}, act)
    return result, (started[0] if started and result.ok else None)


def full_refresh(client, actor: str, declared: dict[str, dict]) -> tuple[ActionResult, str | None]:
    """Rebuild silver from all of bronze, then gold: dag_4 with {"full_refresh": true}."""
    return _trigger(client, actor, "full_refresh", FULL_REFRESH_DAG, {"full_refresh": True},
                    declared)


def confine_raw_dir(raw_dir: str, settings: Settings | None = None) -> str | None:
    """`raw_dir` as a path relative to RAW_DATA_PATH (None for RAW_DATA_PATH itself), when it
    is an existing folder inside it; ConfigError otherwise (the DAG checks it again)."""
    settings = settings or get_settings()
    text = (raw_dir or "").strip()
    if "\x00" in text:
        raise ConfigError("the folder name contains a NUL character")
    root = confined_raw_dir(text or ".", settings)
    relative = root.relative_to(settings.raw_dir())
    return None if str(relative) == "." else relative.as_posix()


def reingest(client, actor: str, raw_dir: str, declared: dict[str, dict],
             settings: Settings | None = None) -> tuple[ActionResult, str | None]:
    """Re-ingest one sub-folder of RAW_DATA_PATH: dag_2 with its `raw_dir` param; a folder
    outside RAW_DATA_PATH is rejected here, before anything is sent."""
    try:
        relative = confine_raw_dir(raw_dir, settings)
    except ConfigError as exc:
        return rejected_action(actor, "reingest", REINGEST_DAG, {"raw_dir": (raw_dir or "")[:500]},
                         f"Not sent: {exc}"), None
    return _trigger(client, actor, "reingest", REINGEST_DAG, {"raw_dir": relative}, declared)


def raw_subfolders(settings: Settings | None = None, depth: int = 2,
                   limit: int = 200) -> list[str]:
    """The folders under RAW_DATA_PATH (relative, at most `depth` levels), for the picker."""
    base = (settings or get_settings()).raw_dir()
    if not base.is_dir():
        return []
    found = []
    for path in sorted(base.rglob("*")):
        relative = path.relative_to(base)
        if path.is_dir() and not path.is_symlink() and len(relative.parts) <= depth:
            found.append(relative.as_posix())
            if len(found) >= limit:
                break
    return found


def rerun_failed(client, actor: str, dag_id: str, dag_run_id: str) -> ActionResult:
    """Re-run a failed DAG run from its failed tasks (clear them), audited."""
    return clear_failed(client, actor, dag_id, dag_run_id)


def run_progress(client, dag_id: str, dag_run_id: str) -> dict:
    """The state of one DAG run and how many of its tasks finished: state, done, total,
    finished (True once success or failed), tasks."""
    run = next((r for r in client.dag_runs(dag_id, limit=50)
                if r["dag_run_id"] == dag_run_id), None)
    if run is None:
        return {"state": "queued", "done": 0, "total": 0, "finished": False, "tasks": []}
    tasks = client.task_instances(dag_id, dag_run_id)
    done = sum(t["state"] in ("success", "failed", "upstream_failed", "skipped") for t in tasks)
    return {"state": run["state"], "done": done, "total": len(tasks),
            "finished": run["state"] in FINISHED_STATES, "tasks": tasks}
