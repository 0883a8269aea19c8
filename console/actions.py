"""State-changing console actions: validate, write the audit row, call Airflow, close the row.

The audit fails closed: the row (actor, action, target, params) is written as
`pending` before anything is sent to Airflow, and when it cannot be written the
action is not taken (outcome `refused`). Afterwards the row gets the outcome:
`success`, or `failure` for an Airflow error. Invalid input is never sent
(outcome `rejected`, one row). Each action returns an `ActionResult` the page
shows as it is.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Callable

from console.data import reader, records
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
    outcome: str  # success | failure | rejected | refused (not audited, so not taken)
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
        return rejected_action(actor, "trigger", dag_id, {"conf_text": (conf_text or "")[:2000]},
                         f"Not sent: {exc}")

    def act() -> tuple[bool, str]:
        run = client.trigger(dag_id, conf)
        return True, f"Triggered {dag_id}: run {run['dag_run_id']} is {run.get('state') or 'queued'}."

    return audited(actor, "trigger", dag_id, {"conf": conf}, act)


def set_paused(client, actor: str, dag_id: str, paused: bool) -> ActionResult:
    """Pause or unpause a DAG, audit it."""

    def act() -> tuple[bool, str]:
        now_paused = client.set_paused(dag_id, paused)
        if now_paused != paused:
            return False, f"Airflow still reports {dag_id} as {'paused' if now_paused else 'active'}."
        return True, f"{dag_id} is now {'paused' if paused else 'active (unpaused)'}."

    return audited(actor, "pause" if paused else "unpause", dag_id, {}, act)


def clear_failed(client, actor: str, dag_id: str, dag_run_id: str) -> ActionResult:
    """Clear the failed tasks of one run so Airflow retries them, audit it."""
    cleared: list[str] = []

    def act() -> tuple[bool, str]:
        cleared.extend(sorted(client.clear_failed(dag_id, dag_run_id)))
        if not cleared:
            return True, f"No failed task to clear in {dag_run_id}."
        return True, (f"Cleared {len(cleared)} task(s) of {dag_run_id}: {', '.join(cleared)}. "
                      "Airflow will run them again.")

    return audited(actor, "clear_failed", f"{dag_id}/{dag_run_id}", {}, act,
                    result_params=lambda: {"task_ids": cleared})


def audited(actor: str, action: str, target: str, params: dict,
             act: Callable[[], tuple[bool, str]],
             result_params: Callable[[], dict] | None = None) -> ActionResult:
    """Open the audit row, take the action only if that worked, then close the row."""
    try:
        audit_id = records.open_action(actor, action, target, params)
    except records.RecordUnavailable as exc:
        log.error("console action %s on %s by %s refused: the audit row cannot be written: %s",
                  action, target, actor, exc)
        return ActionResult(False, "refused",
                            f"Not done: {action} on {target} was not sent to Airflow because "
                            "the audit log cannot be written.", None, str(exc))
    try:
        ok, message = act()
    except (AirflowUnavailable, AirflowRequestFailed) as exc:
        ok, message = False, str(exc)
    outcome = "success" if ok else "failure"
    log.info("console action %s on %s by %s: %s", action, target, actor, outcome)
    audit_error = None
    try:
        records.close_action(audit_id, outcome, message,
                             None if result_params is None else {**params, **result_params()})
    except records.RecordUnavailable as exc:
        log.error("console action %s on %s: outcome not recorded on audit row %s: %s",
                  action, target, audit_id, exc)
        audit_error = f"the outcome was not recorded on audit row #{audit_id}: {exc}"
    reader.clear_caches()
    return ActionResult(ok, outcome, message, audit_id, audit_error)


def rejected_action(actor: str, action: str, target: str, params: dict, message: str) -> ActionResult:
    log.info("console action %s on %s by %s: rejected", action, target, actor)
    try:
        audit_id = records.record_rejected(actor, action, target, params, message)
    except records.RecordUnavailable as exc:
        log.error("console action %s on %s not audited: %s", action, target, exc)
        return ActionResult(False, "rejected", message, None, str(exc))
    reader.clear_caches()
    return ActionResult(False, "rejected", message, audit_id)
