"""Unit tests: param validation, credentials, and the Airflow client against a local fake API."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import SecretStr

from console import actions, auth
from console.airflow_api import AirflowClient, AirflowRequestFailed, AirflowUnavailable
from stack.services import free_port
from etl.settings import Settings

DECLARED = {
    "raw_dir": {"default": None, "schema": {"type": ["null", "string"]}},
    "full_refresh": {"default": False, "schema": {"type": "boolean"}},
    "batch_size": {"default": 1000, "schema": {"type": "integer", "minimum": 1, "maximum": 100000}},
    "mode": {"default": "auto", "schema": {"type": "string", "enum": ["auto", "full"]}},
}


@pytest.mark.parametrize("text, expected", [
    ("", {}),
    ("{}", {}),
    ('{"raw_dir": null, "full_refresh": true}', {"raw_dir": None, "full_refresh": True}),
    ('{"batch_size": 500, "mode": "full"}', {"batch_size": 500, "mode": "full"}),
])
def test_valid_params(text, expected):
    assert actions.validate_conf(text, DECLARED) == expected


@pytest.mark.parametrize("text, message", [
    ("{", "not valid JSON"),
    ("[1]", "must be a JSON object"),
    ('{"full_refresh": 1}', "must be boolean, not integer"),
    ('{"batch_size": true}', "must be integer, not boolean"),
    ('{"batch_size": 0}', "at least 1"),
    ('{"batch_size": 1e9}', "must be integer"),
    ('{"mode": "fast"}', "must be one of"),
    ('{"raw_dir": "a\\u0000b"}', "NUL"),
    ('{"other": 1}', "unknown param(s) other"),
    ('{"raw_dir": "' + "x" * 20000 + '"}', "larger than"),
])
def test_invalid_params(text, message):
    with pytest.raises(actions.InvalidParams, match=None) as info:
        actions.validate_conf(text, DECLARED)
    assert message in str(info.value)


def test_without_declared_params_any_object_is_accepted():
    assert actions.validate_conf('{"anything": [1, 2]}', {}) == {"anything": [1, 2]}


def test_default_conf_lists_every_param():
    assert json.loads(actions.default_conf(DECLARED)) == {
        "raw_dir": None, "full_refresh": False, "batch_size": 1000, "mode": "auto"}


def test_credentials_are_both_checked():
    settings = Settings(airflow_username="ops", airflow_password=SecretStr("pw"))
    assert auth.check_credentials("ops", "pw", settings)
    assert not auth.check_credentials("ops", "PW", settings)
    assert not auth.check_credentials("admin", "pw", settings)
    assert not auth.check_credentials("", "", settings)


# ------------------------------------------------------------------ a local fake Airflow API

class _FakeApi(BaseHTTPRequestHandler):
    tokens_issued: list[str] = []
    accepted: set[str] = set()
    requests: list[tuple[str, str, str | None]] = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _send(self, status: int, body: dict) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_POST(self):
        body = self._body()
        auth_header = self.headers.get("Authorization")
        type(self).requests.append(("POST", self.path, auth_header))
        if self.path == "/auth/token":
            if body != {"username": "ops", "password": "pw"}:
                return self._send(401, {"detail": "Invalid credentials"})
            token = f"token-{len(self.tokens_issued) + 1}"
            self.tokens_issued.append(token)
            return self._send(201, {"access_token": token})
        if not self._authorised(auth_header):
            return self._send(401, {"detail": "Token expired"})
        if self.path == "/api/v2/dags/dag_2_data_ingesters/dagRuns":
            assert body["conf"] == {"full_refresh": True}
            return self._send(200, _dag_run("manual__1", "queued"))
        return self._send(404, {"detail": f"no route {self.path}"})

    def do_PATCH(self):
        body = self._body()
        auth_header = self.headers.get("Authorization")
        type(self).requests.append(("PATCH", self.path, auth_header))
        if not self._authorised(auth_header):
            return self._send(401, {"detail": "Token expired"})
        if self.path.startswith("/api/v2/dags/missing"):
            return self._send(404, {"detail": "The Dag with dag_id: `missing` was not found"})
        return self._send(200, _dag("dag_2_data_ingesters", body["is_paused"]))

    def do_GET(self):
        auth_header = self.headers.get("Authorization")
        type(self).requests.append(("GET", self.path, auth_header))
        if not self._authorised(auth_header):
            return self._send(401, {"detail": "Token expired"})
        if self.path.startswith("/api/v2/dags?"):
            return self._send(200, {"dags": [_dag("dag_2_data_ingesters", False)], "total_entries": 1})
        return self._send(404, {"detail": "not found"})

    def _authorised(self, header: str | None) -> bool:
        return header is not None and header.removeprefix("Bearer ") in self.accepted


def _dag(dag_id: str, paused: bool) -> dict:
    return {"dag_id": dag_id, "dag_display_name": dag_id, "is_paused": paused, "is_stale": False,
            "has_import_errors": False, "has_task_concurrency_limits": False,
            "is_backfillable": True, "file_token": "t", "fileloc": "/dags/x.py",
            "max_active_tasks": 16, "max_consecutive_failed_dag_runs": 0, "owners": ["medallion"],
            "tags": [], "timetable_partitioned": False, "timetable_periodic": True,
            "timetable_summary": "@daily"}


def _dag_run(run_id: str, state: str) -> dict:
    return {"dag_id": "dag_2_data_ingesters", "dag_display_name": "dag_2_data_ingesters",
            "dag_run_id": run_id, "dag_versions": [], "run_after": "2026-11-26T18:00:00Z",
            "run_type": "manual", "state": state}


@pytest.fixture
def fake_api():
    _FakeApi.tokens_issued, _FakeApi.accepted, _FakeApi.requests = [], set(), []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _FakeApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _FakeApi
    server.shutdown()
    server.server_close()


def test_client_gets_a_token_and_renews_it_on_401(fake_api):
    url, api = fake_api
    api.accepted = {"token-1"}
    client = AirflowClient(url, "ops", SecretStr("pw"))
    assert [d["dag_id"] for d in client.list_dags()] == ["dag_2_data_ingesters"]
    assert api.tokens_issued == ["token-1"]
    api.accepted = {"token-2"}  # token-1 expired
    assert client.set_paused("dag_2_data_ingesters", True) is True
    assert api.tokens_issued == ["token-1", "token-2"]
    assert [r[2] for r in api.requests if r[0] == "PATCH"] == ["Bearer token-1", "Bearer token-2"]
    run = client.trigger("dag_2_data_ingesters", {"full_refresh": True})
    assert run == {"dag_run_id": "manual__1", "state": "queued"}


def test_client_reports_refusals_and_bad_credentials(fake_api):
    url, api = fake_api
    api.accepted = {"token-1"}
    client = AirflowClient(url, "ops", SecretStr("pw"))
    with pytest.raises(AirflowRequestFailed, match="404.*was not found"):
        client.set_paused("missing", True)
    wrong = AirflowClient(url, "ops", SecretStr("nope"))
    with pytest.raises(AirflowRequestFailed, match="AIRFLOW_USERNAME / AIRFLOW_PASSWORD"):
        wrong.list_dags()


def test_client_against_nothing_is_unavailable():
    client = AirflowClient(f"http://127.0.0.1:{free_port()}", "ops", SecretStr("pw"), timeout=2)
    with pytest.raises(AirflowUnavailable, match="medallion airflow up"):
        client.list_dags()


def test_formatting_helpers():
    import math

    from console import ui

    assert ui.with_icon(None) == ui.with_icon(math.nan) == "⚪ no run"
    assert ui.with_icon("failed") == "❌ failed"
    assert ui.fmt_duration(4.25) == "4.2 s"
    assert ui.fmt_duration(187) == "3 min 07 s"
    assert ui.fmt_duration(7500) == "2 h 05 min"
    assert ui.fmt_int(None) == ui.fmt_num(math.nan) == "–"
    assert ui.fmt_int(1234567) == "1,234,567"
