"""State-changing console actions: validate, call Airflow, write the audit row, report.

Each action returns an `ActionResult` the page shows as it is. Invalid input is
never sent (outcome `rejected`); an Airflow error is `failure`; both are audited
like a success, with the actor, the target and the parameters.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from console import data
from console.airflow_api import AirflowRequestFailed, AirflowUnavailable

log = logging.getLogger(__name__)

MAX_CONF_BYTES = 10_000
MAX_STRING_CHARS = 4_096

_JSON_TYPES = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


class InvalidParams(ValueError):
    """Trigger params that must not be sent; the message says what to change."""


@dataclass(frozen=True)
class ActionResult:
    """What an action did, as shown to the user and written to the audit table."""

    ok: bool
    outcome: str  # success | failure | rejected
    message: str
    audit_id: int | None = None
    audit_error: str | None = None


# ------------------------------------------------------------------ validation

def default_conf(declared: dict[str, dict]) -> str:
    """The JSON the trigger form starts from: every declared param at its default."""
    return json.dumps({name: spec.get("default") for name, spec in declared.items()}, indent=2)


def validate_conf(conf_text: str, declared: dict[str, dict]) -> dict[str, Any]:
    """Parse and check trigger params against the DAG's declared params.

    Rules: a JSON object under 10 kB; when the DAG declares params, only those
    names; each value of the JSON type(s), enum, bounds and length its schema
    states; strings without NUL characters.
    """
    text = (conf_text or "").strip()
    if not text:
        return {}
    if len(text.encode("utf-8")) > MAX_CONF_BYTES:
        raise InvalidParams(f"params are larger than {MAX_CONF_BYTES} bytes")
    try:
        conf = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidParams(f"params are not valid JSON: {exc.msg} at line {exc.lineno}, "
                            f"column {exc.colno}") from exc
    if not isinstance(conf, dict):
        raise InvalidParams("params must be a JSON object, like {\"full_refresh\": true}")
    if declared:
        unknown = sorted(set(conf) - set(declared))
        if unknown:
            raise InvalidParams(f"unknown param(s) {', '.join(unknown)}; this DAG accepts: "
                                f"{', '.join(sorted(declared))}")
    for name, value in conf.items():
        _check_value(name, value, (declared.get(name) or {}).get("schema") or {})
    return conf


def _check_value(name: str, value: Any, schema: dict) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidParams(f"param {name!r} contains a NUL character")
        if len(value) > MAX_STRING_CHARS:
            raise InvalidParams(f"param {name!r} is longer than {MAX_STRING_CHARS} characters")
    types = schema.get("type")
    if types:
        types = [types] if isinstance(types, str) else list(types)
        if not any(_JSON_TYPES.get(t, lambda v: False)(value) for t in types):
            raise InvalidParams(f"param {name!r} must be {' or '.join(types)}, "
                                f"not {_json_type(value)}")
    if "enum" in schema and value not in schema["enum"]:
        raise InvalidParams(f"param {name!r} must be one of {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise InvalidParams(f"param {name!r} must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise InvalidParams(f"param {name!r} must be at most {schema['maximum']}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            raise InvalidParams(f"param {name!r} must have at least {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise InvalidParams(f"param {name!r} must have at most {schema['maxLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            raise InvalidParams(f"param {name!r} must match {schema['pattern']}")


def _json_type(value: Any) -> str:
    for name, test in _JSON_TYPES.items():
        if name != "number" and test(value):
            return name
    return "number" if _JSON_TYPES["number"](value) else type(value).__name__


# ------------------------------------------------------------------ actions

def trigger(client, actor: str, dag_id: str, conf_text: str,
            declared: dict[str, dict]) -> ActionResult:
    """Validate the params, trigger a run of `dag_id`, audit it."""
    try:
        conf = validate_conf(conf_text, declared)
    except InvalidParams as exc:
        return _audit(actor, "trigger", dag_id, {"conf_text": (conf_text or "")[:2000]},
                      False, "rejected", f"Not sent: {exc}")
    try:
        run = client.trigger(dag_id, conf)
    except (AirflowUnavailable, AirflowRequestFailed) as exc:
        return _audit(actor, "trigger", dag_id, {"conf": conf}, False, "failure", str(exc))
    return _audit(actor, "trigger", dag_id, {"conf": conf}, True, "success",
                  f"Triggered {dag_id}: run {run['dag_run_id']} is {run.get('state') or 'queued'}.")


def set_paused(client, actor: str, dag_id: str, paused: bool) -> ActionResult:
    """Pause or unpause a DAG, audit it."""
    action = "pause" if paused else "unpause"
    try:
        now_paused = client.set_paused(dag_id, paused)
    except (AirflowUnavailable, AirflowRequestFailed) as exc:
        return _audit(actor, action, dag_id, {}, False, "failure", str(exc))
    if now_paused != paused:
        return _audit(actor, action, dag_id, {}, False, "failure",
                      f"Airflow still reports {dag_id} as {'paused' if now_paused else 'active'}.")
    return _audit(actor, action, dag_id, {}, True, "success",
                  f"{dag_id} is now {'paused' if paused else 'active (unpaused)'}.")


def clear_failed(client, actor: str, dag_id: str, dag_run_id: str) -> ActionResult:
    """Clear the failed tasks of one run so Airflow retries them, audit it."""
    target = f"{dag_id}/{dag_run_id}"
    try:
        cleared = sorted(client.clear_failed(dag_id, dag_run_id))
    except (AirflowUnavailable, AirflowRequestFailed) as exc:
        return _audit(actor, "clear_failed", target, {}, False, "failure", str(exc))
    if not cleared:
        return _audit(actor, "clear_failed", target, {"task_ids": []}, True, "success",
                      f"No failed task to clear in {dag_run_id}.")
    return _audit(actor, "clear_failed", target, {"task_ids": cleared}, True, "success",
                  f"Cleared {len(cleared)} task(s) of {dag_run_id}: {', '.join(cleared)}. "
                  "Airflow will run them again.")


def _audit(actor: str, action: str, target: str, params: dict, ok: bool, outcome: str,
           message: str) -> ActionResult:
    log.info("console action %s on %s by %s: %s", action, target, actor, outcome)
    try:
        audit_id = data.record_action(actor, action, target, params, outcome, message)
    except data.DataUnavailable as exc:
        log.error("console action %s on %s not audited: %s", action, target, exc)
        return ActionResult(ok, outcome, message, None, str(exc))
    return ActionResult(ok, outcome, message, audit_id)
