"""The one Airflow REST client of the product: Airflow 3's `/api/v2` through
`apache-airflow-client`, used by the console and by the local stack (`medallion up`).

A JWT comes from `POST {AIRFLOW_API_URL}/auth/token` with AIRFLOW_USERNAME /
AIRFLOW_PASSWORD and is renewed once when a call answers 401. Every method
returns plain dicts and lists, so callers never see client models and tests can
swap in a fake with the same methods. No Streamlit here: the console caches one
client per process in `console.airflow_api`.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import urllib3
from airflow_client.client import ApiClient, Configuration
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DagRunApi
from airflow_client.client.api.monitor_api import MonitorApi
from airflow_client.client.api.task_instance_api import TaskInstanceApi
from airflow_client.client.exceptions import ApiException
from airflow_client.client.models.clear_task_instances_body import ClearTaskInstancesBody
from airflow_client.client.models.dag_patch_body import DAGPatchBody
from airflow_client.client.models.trigger_dag_run_post_body import TriggerDAGRunPostBody
from pydantic import SecretStr

from etl.errors import ServiceUnavailable, TerminalError
from etl.settings import Settings, get_settings

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0


class AirflowUnavailable(ServiceUnavailable):
    """Airflow's API does not answer; the message names the address and the fix."""


class AirflowRequestFailed(TerminalError):
    """Airflow answered, but refused or failed the request; the message says why."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class AirflowClient:
    """A small, typed face of the Airflow 3 REST API for the console."""

    def __init__(self, base_url: str, username: str, password: SecretStr,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        self.base_url = base_url.rstrip("/")
        self._username = username
        self._password = password
        self._timeout = timeout
        self._config = Configuration(host=self.base_url)
        self._config.retries = 1
        self._api = ApiClient(self._config)
        self._http = urllib3.PoolManager(retries=1)

    # -------------------------------------------------------------- auth

    def fetch_token(self) -> str:
        """A new JWT from /auth/token (the client renews its own; tests may need one)."""
        url = f"{self.base_url}/auth/token"
        try:
            resp = self._http.request(
                "POST", url, timeout=self._timeout,
                body=json.dumps({"username": self._username,
                                 "password": self._password.get_secret_value()}),
                headers={"Content-Type": "application/json"},
            )
        except urllib3.exceptions.HTTPError as exc:
            raise self._unavailable(exc) from exc
        if resp.status in (401, 403):
            raise AirflowRequestFailed(
                f"Airflow at {self.base_url} refused the console's sign-in ({resp.status}): "
                "check AIRFLOW_USERNAME / AIRFLOW_PASSWORD.")
        if resp.status >= 400:
            raise AirflowRequestFailed(f"Airflow at {self.base_url} answered {resp.status} "
                                       "to /auth/token; is AIRFLOW_API_URL the api-server?")
        try:
            token = json.loads(resp.data)["access_token"]
        except (ValueError, KeyError, TypeError) as exc:
            raise AirflowRequestFailed(f"Airflow at {self.base_url} sent no access_token "
                                       "from /auth/token") from exc
        log.info("obtained an Airflow API token from %s", self.base_url)
        return token

    def _unavailable(self, exc: Exception) -> AirflowUnavailable:
        # urllib3 wraps the cause (refused, timed out) in MaxRetryError: show only the cause.
        cause = getattr(exc, "reason", None) or exc
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        reason = reason.split("Failed to establish a new connection: ")[-1][:200]
        return AirflowUnavailable(
            f"Airflow at {self.base_url} is unreachable: {reason}. Start it with "
            "`medallion airflow up`, or set AIRFLOW_API_URL.")

    def _call(self, api_cls, method: str, *args, **kwargs):
        """Call one API method with a token, renewing the token once on 401."""
        for attempt in (1, 2):
            if self._config.access_token is None:
                self._config.access_token = self.fetch_token()
            api = api_cls(self._api)
            try:
                return getattr(api, method)(*args, _request_timeout=self._timeout, **kwargs)
            except ApiException as exc:
                if exc.status == 401 and attempt == 1:
                    log.info("Airflow token expired or refused; renewing it")
                    self._config.access_token = None
                    continue
                raise AirflowRequestFailed(_describe(exc, method), exc.status) from exc
            except urllib3.exceptions.HTTPError as exc:
                raise self._unavailable(exc) from exc
        raise AirflowRequestFailed(f"Airflow refused {method} after renewing the token")

    # -------------------------------------------------------------- reads

    def health(self) -> dict:
        """The status of Airflow's components (metadatabase, scheduler, ...)."""
        try:
            resp = MonitorApi(self._api).get_health(_request_timeout=self._timeout)
        except urllib3.exceptions.HTTPError as exc:
            raise self._unavailable(exc) from exc
        except ApiException as exc:
            raise AirflowRequestFailed(_describe(exc, "get_health")) from exc
        return {name: getattr(getattr(resp, name, None), "status", None)
                for name in ("metadatabase", "scheduler", "triggerer", "dag_processor")}

    def list_dags(self) -> list[dict]:
        """Every DAG: id, paused state, schedule, tags, next run."""
        resp = self._call(DAGApi, "get_dags", limit=100, order_by=["dag_id"])
        return [{
            "dag_id": d.dag_id,
            "is_paused": d.is_paused,
            "schedule": d.timetable_summary or d.timetable_description or "",
            "description": d.description or "",
            "tags": sorted(t.name for t in (d.tags or [])),
            "next_run_at": d.next_dagrun_run_after,
            "has_import_errors": d.has_import_errors,
        } for d in resp.dags]

    def dag_runs(self, dag_id: str, limit: int = 25) -> list[dict]:
        """The latest runs of one DAG, newest first."""
        resp = self._call(DagRunApi, "get_dag_runs", dag_id, limit=limit, order_by=["-run_after"])
        return [{
            "dag_run_id": r.dag_run_id,
            "state": _enum(r.state),
            "run_type": _enum(r.run_type),
            "run_after": r.run_after,
            "start_date": r.start_date,
            "end_date": r.end_date,
            "duration_seconds": r.duration if r.duration is not None else _seconds(r.start_date, r.end_date),
            "conf": r.conf or {},
            "triggered_by": r.triggering_user_name or _enum(r.triggered_by) or "",
        } for r in resp.dag_runs]

    def task_instances(self, dag_id: str, dag_run_id: str) -> list[dict]:
        """The task instances of one run: state, try, duration."""
        resp = self._call(TaskInstanceApi, "get_task_instances", dag_id, dag_run_id, limit=200)
        rows = [{
            "task_id": t.task_id,
            "map_index": t.map_index,
            "state": _enum(t.state) or "none",
            "try_number": t.try_number,
            "max_tries": t.max_tries,
            "duration_seconds": t.duration,
            "start_date": t.start_date,
            "end_date": t.end_date,
            "operator": t.operator_name or t.operator or "",
            "hostname": t.hostname or None,
        } for t in resp.task_instances]
        return sorted(rows, key=lambda r: (r["start_date"] is None, r["start_date"] or datetime.max,
                                           r["task_id"]))

    def log_tail(self, dag_id: str, dag_run_id: str, task_id: str, try_number: int,
                 lines: int = 100, map_index: int = -1) -> str:
        """The last `lines` lines of one task try's log."""
        resp = self._call(TaskInstanceApi, "get_log", dag_id, dag_run_id, task_id,
                          max(int(try_number), 0), full_content=True, map_index=map_index)
        content = resp.content.actual_instance if resp.content is not None else None
        text_lines = [_log_line(item) for item in (content or [])]
        return "\n".join(text_lines[-lines:])

    def dag(self, dag_id: str) -> dict | None:
        """One DAG's id and paused state; None while the dag-processor has not parsed it."""
        try:
            d = self._call(DAGApi, "get_dag", dag_id)
        except AirflowRequestFailed as exc:
            if exc.status == 404:
                return None
            raise
        return {"dag_id": d.dag_id, "is_paused": d.is_paused}

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        """A raw JSON call to `/api/v2{path}` with the client's token (for the calls the typed
        methods do not cover); renews the token once on 401."""
        for attempt in (1, 2):
            if self._config.access_token is None:
                self._config.access_token = self.fetch_token()
            try:
                resp = self._http.request(
                    method, f"{self.base_url}/api/v2{path}", timeout=self._timeout,
                    body=json.dumps(body) if body is not None else None,
                    headers={"Content-Type": "application/json", "Accept": "application/json",
                             "Authorization": f"Bearer {self._config.access_token}"})
            except urllib3.exceptions.HTTPError as exc:
                raise self._unavailable(exc) from exc
            if resp.status == 401 and attempt == 1:
                self._config.access_token = None
                continue
            if resp.status >= 400:
                raise AirflowRequestFailed(f"Airflow answered {resp.status} to {method} {path}: "
                                           f"{resp.data[:300]!r}", resp.status)
            return json.loads(resp.data) if resp.data else {}
        raise AirflowRequestFailed(f"Airflow refused {method} {path} after renewing the token", 401)

    def config_value(self, section: str, option: str) -> str | None:
        """One option of Airflow's configuration; None when the API does not expose it
        (`[api] expose_config` is False by default: 403)."""
        try:
            body = self.request("GET", f"/config/section/{section}/option/{option}")
        except AirflowRequestFailed as exc:
            if exc.status in (403, 404):
                return None
            raise
        for found in body.get("sections", []):
            for item in found.get("options", []):
                if item.get("key") == option:
                    return item.get("value")
        return None

    def task_instances_across_dags(self, state: str | None = None,
                                   limit: int = 200) -> tuple[list[dict], int]:
        """The latest task instances of every DAG (newest start first), optionally in one
        state, and how many match in all: who ran what, and what waits in the queue."""
        query = f"limit={int(limit)}&order_by=-start_date" + (f"&state={state}" if state else "")
        body = self.request("GET", f"/dags/~/dagRuns/~/taskInstances?{query}")
        rows = [{
            "dag_id": t.get("dag_id"),
            "dag_run_id": t.get("dag_run_id"),
            "task_id": t.get("task_id"),
            "try_number": t.get("try_number"),
            "state": t.get("state") or "none",
            "hostname": t.get("hostname") or None,
            "queue": t.get("queue"),
            "start_date": t.get("start_date"),
            "end_date": t.get("end_date"),
        } for t in body.get("task_instances", [])]
        return rows, int(body.get("total_entries", len(rows)))

    def dag_params(self, dag_id: str) -> dict[str, dict]:
        """The DAG's declared params: name -> {default, schema, description}."""
        details = self._call(DAGApi, "get_dag_details", dag_id)
        params = {}
        for name, spec in (details.params or {}).items():
            if isinstance(spec, dict) and ("schema" in spec or "value" in spec):
                params[name] = {"default": spec.get("value"), "schema": spec.get("schema") or {},
                                "description": spec.get("description") or ""}
            else:
                params[name] = {"default": spec, "schema": {}, "description": ""}
        return params

    # -------------------------------------------------------------- actions

    def trigger(self, dag_id: str, conf: dict[str, Any], dag_run_id: str | None = None) -> dict:
        """Trigger one run of a DAG with `conf`; returns its id and state."""
        extra = {"dag_run_id": dag_run_id} if dag_run_id else {}
        body = TriggerDAGRunPostBody(conf=conf, logical_date=None, **extra)
        run = self._call(DagRunApi, "trigger_dag_run", dag_id, body)
        return {"dag_run_id": run.dag_run_id, "state": _enum(run.state)}

    def set_paused(self, dag_id: str, paused: bool) -> bool:
        """Pause or unpause a DAG; returns the paused state Airflow reports."""
        dag = self._call(DAGApi, "patch_dag", dag_id, DAGPatchBody(is_paused=paused),
                         update_mask=["is_paused"])
        return bool(dag.is_paused)

    def clear_failed(self, dag_id: str, dag_run_id: str) -> list[str]:
        """Clear the failed (and upstream-failed) tasks of one run so they run again."""
        body = ClearTaskInstancesBody(dag_run_id=dag_run_id, dry_run=False, only_failed=True,
                                      reset_dag_runs=True)
        resp = self._call(TaskInstanceApi, "post_clear_task_instances", dag_id, body)
        return sorted({t.task_id for t in resp.task_instances})


def client_from_settings(settings: Settings | None = None,
                         timeout: float = TIMEOUT_SECONDS) -> AirflowClient:
    """A client for the configured API (AIRFLOW_API_URL, AIRFLOW_USERNAME, AIRFLOW_PASSWORD)."""
    settings = settings or get_settings()
    return AirflowClient(settings.airflow_api_url, settings.airflow_username,
                         settings.airflow_password, timeout=timeout)


# ------------------------------------------------------------------ helpers

def _describe(exc: ApiException, method: str) -> str:
    detail = ""
    if exc.body:
        try:
            body = json.loads(exc.body)
            detail = body.get("detail", body) if isinstance(body, dict) else body
        except (ValueError, TypeError):
            detail = str(exc.body)[:300]
    if not isinstance(detail, str):
        detail = json.dumps(detail, default=str)[:300]
    return f"Airflow answered {exc.status} {exc.reason or ''} to {method}: {detail}".strip()


def _enum(value) -> str | None:
    if value is None:
        return None
    return getattr(value, "value", value)


def _seconds(start, end) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def _log_line(item) -> str:
    if isinstance(item, str):
        return item
    stamp = item.timestamp.strftime("%Y-%m-%d %H:%M:%S") if getattr(item, "timestamp", None) else ""
    extra = getattr(item, "additional_properties", {}) or {}
    level = str(extra.get("level", "")).upper()
    return " ".join(part for part in (stamp, level, item.event) if part)
