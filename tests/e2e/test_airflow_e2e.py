"""End to end on real Airflow 3 components started by `stack.airflow_local`.

One local Airflow (api-server, scheduler, dag-processor, triggerer; LocalExecutor;
a throwaway metadata database; a temp state folder) serves the module:

- the chain: `dag_2_data_ingesters` triggered through the REST API with
  apache-airflow-client (JWT from POST /auth/token) is followed by both `dag_3`
  runs and one `dag_4` run, and gold then equals what `medallion run` builds
  from the same files in another database;
- failures: a task that keeps failing is retried with exponential backoff and
  then alerts reach a local SMTP server (aiosmtpd) and a local HTTP receiver;
  a terminal error fails at once, without retries, and alerts too.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from stack import airflow_local
from stack.services import free_port
from etl.settings import get_settings, reset_settings
from tests.support.envtools import restore_environ

pytestmark = pytest.mark.slow

WAIT_SECONDS = 900  # a guard against hanging forever, not a performance assertion
RETRY_DELAY_SECONDS = 2
CHAIN = ("dag_2_data_ingesters", "dag_3_data_transformer_bronze",
         "dag_3_data_transformer_bronze_json", "dag_4_data_transformer_silver")

FAILURE_DAG = '''
"""Test-only DAG with the product's default args: one retryable and one terminal failure."""
from airflow.sdk import dag, task

from dags.common.defaults import DAG_KWARGS, TAGS


@dag(dag_id="e2e_forced_failure", schedule=None, tags=[*TAGS, "test"], doc_md="forced failures",
     **DAG_KWARGS)
def e2e_forced_failure():
    @task
    def fail_retryably():
        from etl.errors import RetryableError
        raise RetryableError("forced retryable failure")

    @task
    def fail_terminally():
        from etl.errors import QualityGateFailed
        from dags.common.runtime import run_step

        def gate(*, run_id, settings):
            raise QualityGateFailed("forced critical check failure")
        return run_step(gate)

    fail_retryably()
    fail_terminally()


e2e_forced_failure()
'''


# ------------------------------------------------------------------ local receivers

class _Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _webhook_server(received: list):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# ------------------------------------------------------------------ databases

def _admin():
    return psycopg.connect(**get_settings().libpq_kwargs("postgres"), autocommit=True)


def _clone(template: str) -> str:
    name = f"medallion_e2e_{uuid.uuid4().hex[:10]}"
    with _admin() as conn:
        conn.execute(sql.SQL("create database {} template {}").format(
            sql.Identifier(name), sql.Identifier(template)))
    return name


def _drop(name: str) -> None:
    with _admin() as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def _gold(database: str) -> dict[str, list[tuple]]:
    """Every gold table, rows sorted, floats rounded to compare with the contract's tolerance."""
    def norm(v):
        return round(v, 6) if isinstance(v, float) and math.isfinite(v) else v

    with psycopg.connect(**get_settings().libpq_kwargs(database)) as conn:
        tables = [r[0] for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'gold' "
            "and table_type = 'BASE TABLE' order by 1")]
        return {t: sorted((tuple(norm(v) for v in row) for row in conn.execute(
            sql.SQL("select * from gold.{}").format(sql.Identifier(t)))), key=repr)
            for t in tables}


# ------------------------------------------------------------------ the stack

@dataclass
class Stack:
    settings: object
    database: str
    raw_dir: Path
    mailbox: _Mailbox
    webhook: list = field(default_factory=list)

    def api(self):
        from airflow_client.client import ApiClient, Configuration

        from console.airflow_rest import client_from_settings

        token = client_from_settings(self.settings).fetch_token()
        return ApiClient(Configuration(host=self.settings.airflow_api_url, access_token=token))


@pytest.fixture(scope="module")
def stack(template_db, mongo_server, tmp_path_factory):
    from aiosmtpd.controller import Controller

    from etl import synth

    base = tmp_path_factory.mktemp("airflow-e2e")
    raw = base / "raw"
    synth.generate(raw, users=60, sessions=600, contents=25, days=14, seed=11, dirty_rate=0.03)
    fail_dags = base / "failure_dags"
    fail_dags.mkdir()
    (fail_dags / "e2e_forced_failure.py").write_text(FAILURE_DAG)

    mailbox = _Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    received: list = []
    web = _webhook_server(received)

    database = _clone(template_db)
    overrides = {
        "MEDALLION_HOME": str(base / "home"),
        "POSTGRES_DB": database,
        "MONGO_DB": database,
        "RAW_DATA_PATH": str(raw),
        "AIRFLOW_API_URL": f"http://127.0.0.1:{free_port()}",
        "AIRFLOW_USERNAME": "e2e",
        "AIRFLOW_PASSWORD": uuid.uuid4().hex,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "ALERT_EMAIL_TO": "oncall@example.com",
        "SLACK_WEBHOOK_URL": f"http://127.0.0.1:{web.server_address[1]}/services/T/B/X",
        "MEDALLION_RETRY_DELAY_SECONDS": str(RETRY_DELAY_SECONDS),
        "MEDALLION_INGEST_SCHEDULE": "none",  # only our trigger runs dag_2
    }
    saved = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)
    reset_settings()
    settings = get_settings()
    bundles = [
        {"name": "dags-folder", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
         "kwargs": {}},
        {"name": "e2e-failure", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
         "kwargs": {"path": str(fail_dags)}},
    ]
    env = airflow_local.airflow_env(settings, extra={
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles)})
    try:
        airflow_local.up(settings, env=env)
        yield Stack(settings, database, raw, mailbox, received)
    finally:
        airflow_local.down()
        airflow_local.drop_metadata_database(settings)
        _drop(database)
        smtp.stop()
        web.shutdown()
        restore_environ(saved)


# ------------------------------------------------------------------ API helpers

def _runs(client, dag_id: str) -> list:
    from airflow_client.client.api.dag_run_api import DagRunApi

    return DagRunApi(client).get_dag_runs(dag_id, limit=100).dag_runs


def _wait(predicate, what: str, stack: Stack):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(3)
    logs = Path(os.environ["MEDALLION_HOME"]) / "logs"
    pytest.fail(f"timed out waiting for {what}; component and task logs in {logs}")


def _finished(client, dag_id: str, count: int = 1):
    """The runs of dag_id once `count` exist and all have finished, else None."""
    runs = _runs(client, dag_id)
    if len(runs) >= count and all(r.state.value in ("success", "failed") for r in runs):
        return runs
    return None


def _pipeline_run(database: str, run_id: str) -> dict | None:
    with psycopg.connect(**get_settings().libpq_kwargs(database)) as conn:
        conn.row_factory = psycopg.rows.dict_row
        return conn.execute("select * from ops.pipeline_runs where run_id = %s and status <> 'running'",
                            (run_id,)).fetchone()


# ------------------------------------------------------------------ tests

def test_dag_2_triggers_the_chain_and_gold_matches_the_cli(stack, template_db, mongo_server):
    from airflow_client.client.api.dag_run_api import DagRunApi
    from airflow_client.client.models.trigger_dag_run_post_body import TriggerDAGRunPostBody

    from etl import pipeline

    with stack.api() as client:
        run = DagRunApi(client).trigger_dag_run(
            "dag_2_data_ingesters", TriggerDAGRunPostBody(logical_date=None, conf={}))
        finished = {dag_id: _wait(lambda d=dag_id: _finished(client, d), dag_id, stack)
                    for dag_id in CHAIN}
        # one dag_2 run is followed by exactly one run of each downstream DAG
        assert {d: [r.state.value for r in runs] for d, runs in finished.items()} == {
            d: ["success"] for d in CHAIN}
        assert finished["dag_2_data_ingesters"][0].dag_run_id == run.dag_run_id
        silver_run = finished["dag_4_data_transformer_silver"][0]
        events = DagRunApi(client).get_upstream_asset_events(
            "dag_4_data_transformer_silver", silver_run.dag_run_id).asset_events
        assert {e.name for e in events} == {"bronze.csv_tables", "bronze.content"}
        assert {e.source_dag_id for e in events} == {"dag_3_data_transformer_bronze",
                                                      "dag_3_data_transformer_bronze_json"}

    # monitoring metrics of the dag_4 run (finished by the DAG's success callback)
    metrics = _wait(lambda: _pipeline_run(
        stack.database, f"dag_4_data_transformer_silver:{silver_run.dag_run_id}"),
        "dag_4's metrics in ops.pipeline_runs", stack)
    assert metrics["status"] == "success" and metrics["trigger"] == "airflow"
    # build_silver, check_silver, build_gold, record_kpis, check_gold
    assert metrics["tasks_succeeded"] == 5 and metrics["tasks_failed"] == 0
    assert metrics["rows_silver"] > 0 and metrics["rows_gold"] > 0
    assert metrics["dq_score_silver"] is not None and metrics["dq_score_gold"] is not None
    assert metrics["gold_built_at"] is not None and metrics["latency_seconds"] > 0
    assert metrics["duration_seconds"] > 0
    bronze = _pipeline_run(stack.database, "dag_3_data_transformer_bronze:"
                           + finished["dag_3_data_transformer_bronze"][0].dag_run_id)
    assert bronze is not None and bronze["rows_bronze"] > 0 and bronze["dq_score_bronze"] is not None

    # the CLI pipeline on the same files, in another database, builds the same gold
    airflow_gold = _gold(stack.database)
    cli_db = _clone(template_db)
    try:
        os.environ["POSTGRES_DB"] = os.environ["MONGO_DB"] = cli_db
        reset_settings()
        from etl import schema

        schema.init_mongo(get_settings())
        pipeline.run(stack.raw_dir, settings=get_settings())
        cli_gold = _gold(cli_db)
    finally:
        os.environ["POSTGRES_DB"] = os.environ["MONGO_DB"] = stack.database
        reset_settings()
        _drop(cli_db)
    assert set(airflow_gold) == set(cli_gold) and airflow_gold
    assert any(airflow_gold.values())
    for table in airflow_gold:
        assert airflow_gold[table] == cli_gold[table], table


def test_a_run_with_nothing_new_still_runs_the_chain_and_variables_win(stack):
    """Airflow Variables override the settings inside tasks; an empty dag_2 run still chains."""
    from airflow_client.client.api.dag_run_api import DagRunApi
    from airflow_client.client.api.variable_api import VariableApi
    from airflow_client.client.models.trigger_dag_run_post_body import TriggerDAGRunPostBody
    from airflow_client.client.models.variable_body import VariableBody

    with stack.api() as client:
        before = {d: len(_runs(client, d)) for d in CHAIN}
        variables = VariableApi(client)
        variables.post_variable(VariableBody(key="enable_data_quality_checks", value="false"))
        try:
            DagRunApi(client).trigger_dag_run(
                "dag_2_data_ingesters", TriggerDAGRunPostBody(logical_date=None, conf={}))
            finished = {d: _wait(lambda d=d: _finished(client, d, before[d] + 1), d, stack)
                        for d in CHAIN}
        finally:
            variables.delete_variable("enable_data_quality_checks")
        assert {d: len(runs) for d, runs in finished.items()} == {d: n + 1 for d, n in before.items()}
        assert all(r.state.value == "success" for runs in finished.values() for r in runs)
        latest = {d: max(runs, key=lambda r: r.run_after).dag_run_id for d, runs in finished.items()}

    run_id = f"dag_4_data_transformer_silver:{latest['dag_4_data_transformer_silver']}"
    metrics = _wait(lambda: _pipeline_run(stack.database, run_id), "dag_4's metrics", stack)
    # checks were switched off by the Variable: no score for this run
    assert metrics["status"] == "success"
    assert metrics["dq_score_silver"] is None and metrics["dq_score_gold"] is None
    csv_run = f"dag_3_data_transformer_bronze:{latest['dag_3_data_transformer_bronze']}"
    with psycopg.connect(**get_settings().libpq_kwargs(stack.database)) as conn:
        tasks = dict(conn.execute("select task_id, rows from ops.task_runs where run_id = %s "
                                  "and state = 'success'", (csv_run,)).fetchall())
    assert tasks["load_csv_files"] == 0  # nothing new: every file was already loaded


def test_failures_retry_with_backoff_then_alert(stack):
    from airflow_client.client.api.dag_run_api import DagRunApi
    from airflow_client.client.api.task_instance_api import TaskInstanceApi
    from airflow_client.client.models.trigger_dag_run_post_body import TriggerDAGRunPostBody

    with stack.api() as client:
        _wait(lambda: _dag_known(client, "e2e_forced_failure"), "the failure DAG to be parsed", stack)
        run = DagRunApi(client).trigger_dag_run(
            "e2e_forced_failure", TriggerDAGRunPostBody(logical_date=None, conf={}))
        (done,) = _wait(lambda: _finished(client, "e2e_forced_failure"), "the failure DAG", stack)
        assert done.state.value == "failed"
        tis = TaskInstanceApi(client)
        retried = tis.get_task_instance_tries("e2e_forced_failure", run.dag_run_id,
                                              "fail_retryably").task_instances
        terminal = tis.get_task_instance_tries("e2e_forced_failure", run.dag_run_id,
                                               "fail_terminally").task_instances

    # retries=3: four tries, each gap at least the doubled delay (2 s, 4 s, 8 s)
    retried = sorted(retried, key=lambda t: t.try_number)
    assert [t.try_number for t in retried] == [1, 2, 3, 4]
    assert [t.state.value for t in retried][-1] == "failed"
    gaps = [(b.start_date - a.end_date).total_seconds() for a, b in zip(retried, retried[1:])]
    for n, gap in enumerate(gaps):
        assert gap >= RETRY_DELAY_SECONDS * 2 ** n - 1, gaps
    # a terminal error is not retried
    assert [t.try_number for t in terminal] == [1]

    def alerts():
        subjects = [m["Subject"] for m in stack.mailbox.messages]
        texts = [p["text"] for p in stack.webhook]
        wanted = ("fail_retryably", "fail_terminally")
        if all(any(w in s for s in subjects) for w in wanted) and \
                all(any(w in t for t in texts) for w in wanted):
            return subjects, texts
        return None

    subjects, texts = _wait(alerts, "alerts by email and webhook", stack)
    # one alert per failed task, after its last try, not one per try
    assert sum("fail_retryably" in s for s in subjects) == 1
    assert sum("fail_retryably" in t for t in texts) == 1
    assert any("forced retryable failure" in t for t in texts)
    assert any("forced critical check failure" in t for t in texts)
    # the alert links to the task's log in this Airflow's UI
    assert all(f"Log: {stack.settings.airflow_api_url}/dags/e2e_forced_failure/runs/" in t
               for t in texts)

    metrics = _wait(lambda: _pipeline_run(stack.database, f"e2e_forced_failure:{run.dag_run_id}"),
                    "the failed run's metrics", stack)
    assert metrics["status"] == "failed"
    assert metrics["tasks_failed"] == 2 and metrics["tasks_retried"] == 3


def _dag_known(client, dag_id: str) -> bool:
    from airflow_client.client.api.dag_api import DAGApi
    from airflow_client.client.exceptions import NotFoundException

    try:
        return not DAGApi(client).get_dag(dag_id).is_paused
    except NotFoundException:
        return False
