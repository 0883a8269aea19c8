"""PostgreSQL restarted during a DAG run: the failed task's retry succeeds and gold is right.

The test starts its own PostgreSQL cluster (`stack.services.private_postgres_up` under a
temp MEDALLION_HOME; never the machine's shared server) for the pipeline's database, and
a local Airflow 3 (`stack.airflow_local`) whose tasks use it, with a short retry delay
(MEDALLION_RETRY_DELAY_SECONDS). Airflow's own metadata database is a throwaway one on the
shared server, so the scheduler and the API stay up while the data warehouse restarts:
what is under test is the pipeline's tasks, not Airflow's tolerance of losing its own
database.

Once `dag_3_data_transformer_bronze.load_csv_files` is streaming rows (its COPY shows in
pg_stat_progress_copy), the cluster is stopped (fast shutdown: the COPY is cut); it is
started again (same port, same data) once that task has used up etl's own retries,
failed and waits for Airflow's retry. Then every DAG run of the chain must succeed, that
task with a second try, each file must be loaded once, and gold must equal what `medallion run` builds from the same files
in a fresh database.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from etl import db, pipeline, schema, synth
from stack import airflow_local, services
from stack.services import free_port
from etl.settings import get_settings, reset_settings
from tests.support.envtools import restore_environ

pytestmark = pytest.mark.slow

WAIT_SECONDS = 900  # a guard against hanging forever, not a performance assertion
RETRY_DELAY_SECONDS = 3
CHAIN = ("dag_2_data_ingesters", "dag_3_data_transformer_bronze",
         "dag_3_data_transformer_bronze_json", "dag_4_data_transformer_silver")
TARGET = ("dag_3_data_transformer_bronze", "load_csv_files")
ENV_KEYS = ("MEDALLION_HOME", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD",
            "POSTGRES_DB", "MONGO_DB", "RAW_DATA_PATH", "AIRFLOW_API_URL", "AIRFLOW_USERNAME",
            "AIRFLOW_PASSWORD", "MEDALLION_RETRY_DELAY_SECONDS", "MEDALLION_INGEST_SCHEDULE",
            "ENABLE_DATA_QUALITY_CHECKS")


def _wait(predicate, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}; logs under {os.environ['MEDALLION_HOME']}/logs")


class Api:
    """The few REST calls the test needs, with a JWT from /auth/token."""

    def __init__(self, settings):
        from console.airflow_rest import client_from_settings

        self.client = client_from_settings(settings, timeout=30)

    def get(self, path: str) -> dict:
        return self.client.request("GET", path)

    def post(self, path: str, body: dict) -> dict:
        return self.client.request("POST", path, body)

    def runs(self, dag_id: str) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns?limit=100")["dag_runs"]

    def task_instances(self, dag_id: str) -> list[dict]:
        return [ti for run in self.runs(dag_id)
                for ti in self.get(f"/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances")
                ["task_instances"]]


def _wait_for_copy(settings, api: Api) -> None:
    """Until the CSV loader's COPY into bronze.viewing_sessions is streaming rows."""
    deadline = time.monotonic() + WAIT_SECONDS
    polls = 0
    while time.monotonic() < deadline:
        with db.connect(settings, autocommit=True) as conn:
            copying = conn.execute(
                "select 1 from pg_stat_progress_copy where datname = current_database() "
                "and relid = 'bronze.viewing_sessions'::regclass and tuples_processed > 0").fetchone()
        if copying:
            return
        polls += 1
        if polls % 20 == 0 and any(ti["task_id"] == TARGET[1] and ti["state"] == "success"
                                   for ti in api.task_instances(TARGET[0])):
            pytest.fail(f"{TARGET[1]} finished before its COPY was caught: make the files bigger")
        time.sleep(0.05)
    pytest.fail("the CSV loader never started its COPY")


def _gold(settings) -> dict[str, list[tuple]]:
    """Every gold table, rows sorted, floats rounded for the contract's tolerance."""
    def norm(v):
        return round(v, 6) if isinstance(v, float) and math.isfinite(v) else v

    with db.connect(settings) as conn:
        tables = [r[0] for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'gold' "
            "and table_type = 'BASE TABLE' order by 1")]
        return {t: sorted((tuple(norm(v) for v in row) for row in conn.execute(
            sql.SQL("select * from gold.{}").format(sql.Identifier(t)))), key=repr)
            for t in tables}


@pytest.fixture
def stack(tmp_path, mongo_server):
    shared = get_settings()  # the machine's server: only for Airflow's throwaway metadata database
    saved = {k: os.environ.get(k) for k in ENV_KEYS}
    # Not under pytest's basetemp: a pytest session started meanwhile (anyone's) sets that
    # folder back to mode 700, and the cluster's unprivileged user could no longer reach
    # its data folder to stop or start.
    home = Path(tempfile.mkdtemp(prefix="medallion-pg-restart-", dir="/tmp"))
    raw = tmp_path / "raw"
    report = synth.generate(raw, users=300, sessions=300_000, contents=80, days=30, seed=3,
                            dirty_rate=0.03)
    name = f"medallion_pgr_{uuid.uuid4().hex[:10]}"
    metadata_db = f"{name}_airflow"
    cluster = None
    airflow_started = False
    try:
        os.environ["MEDALLION_HOME"] = str(home)
        reset_settings()
        cluster = services.private_postgres_up()
        # Written like `medallion services up` does, so a restart gets the same port and password.
        (home / "services.env").write_text("".join(f"{k}={v}\n" for k, v in cluster.items()))
        (home / "services.env").chmod(0o600)
        os.environ.update(cluster)
        os.environ.update({
            "POSTGRES_DB": name, "MONGO_DB": name, "RAW_DATA_PATH": str(raw),
            "AIRFLOW_API_URL": f"http://127.0.0.1:{free_port()}", "AIRFLOW_USERNAME": "fault",
            "AIRFLOW_PASSWORD": uuid.uuid4().hex,
            "MEDALLION_RETRY_DELAY_SECONDS": str(RETRY_DELAY_SECONDS),
            "MEDALLION_INGEST_SCHEDULE": "none", "ENABLE_DATA_QUALITY_CHECKS": "true"})
        reset_settings()
        settings = get_settings()
        assert settings.postgres_port == int(cluster["POSTGRES_PORT"]) != shared.postgres_port
        schema.init(settings)

        with psycopg.connect(**shared.libpq_kwargs("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(metadata_db)))
        env = airflow_local.airflow_env(settings, extra={
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": shared.sqlalchemy_url(metadata_db, driver="psycopg2")})
        airflow_started = True
        airflow_local.up(settings, env=env)
        yield settings, report
    finally:
        if airflow_started:
            airflow_local.down()
        with psycopg.connect(**shared.libpq_kwargs("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(metadata_db)))
        if cluster is not None:
            services.private_postgres_down()
        client = db.mongo_client(get_settings())
        for database in (name, f"{name}_ref"):
            client.drop_database(database)
        client.close()
        restore_environ(saved)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(raw, ignore_errors=True)


def test_postgres_restart_during_a_dag_run_is_survived(stack):
    settings, report = stack
    api = Api(settings)
    trigger = api.post("/dags/dag_2_data_ingesters/dagRuns", {"logical_date": None, "conf": {}})
    assert trigger["dag_run_id"]

    _wait_for_copy(settings, api)
    port = settings.postgres_port
    assert services.private_postgres_down(), "the private cluster was not running"
    assert not services.port_open("127.0.0.1", port)

    def target_waits_for_its_retry():
        waiting = [(d, ti["task_id"]) for d in CHAIN for ti in api.task_instances(d)
                   if ti["state"] == "up_for_retry"]
        return waiting if TARGET in waiting else None

    waiting = _wait(target_waits_for_its_retry, f"{TARGET[1]} to fail while PostgreSQL is down")
    restarted = services.private_postgres_up()
    assert restarted["POSTGRES_PORT"] == str(port), "the cluster came back elsewhere"

    def chain_finished():
        runs = {d: api.runs(d) for d in CHAIN}
        if all(len(r) == 1 and r[0]["state"] in ("success", "failed") for r in runs.values()):
            return runs
        return None

    runs = _wait(chain_finished, "the chain of DAG runs to finish")
    assert {d: [r["state"] for r in rs] for d, rs in runs.items()} == {d: ["success"] for d in CHAIN}
    retried = {(d, ti["task_id"]): ti["try_number"] for d in CHAIN for ti in api.task_instances(d)
               if ti["try_number"] > 1}
    assert retried, "no task needed a retry: PostgreSQL went down between tasks?"
    assert set(waiting) <= set(retried)
    assert retried[TARGET] >= 2
    all_tis = [ti for d in CHAIN for ti in api.task_instances(d)]
    assert {ti["state"] for ti in all_tis} == {"success"}

    # Nothing loaded twice, nothing lost: each file once, with all its rows.
    with db.connect(settings) as conn:
        loaded = dict(conn.execute("select source_file, rows_loaded from ops.ingestion_log "
                                   "where status = 'loaded'").fetchall())
        loaded_rows = conn.execute("select count(*) from ops.ingestion_log "
                                   "where status = 'loaded'").fetchone()[0]
        bronze_sessions = conn.execute("select count(*) from bronze.viewing_sessions").fetchone()[0]
    assert loaded == {f.path: f.rows for f in report.files if f.entity}
    assert loaded_rows == len(loaded)
    assert bronze_sessions == report.expected["viewing_sessions"].bronze_rows

    # Gold equals a fresh `medallion run` of the same files.
    reference = settings.model_copy(update={"postgres_db": f"{settings.postgres_db}_ref",
                                            "mongo_db": f"{settings.mongo_db}_ref"})
    pipeline.run(Path(settings.raw_data_path), settings=reference, checks=False)
    airflow_gold, cli_gold = _gold(settings), _gold(reference)
    assert set(airflow_gold) == set(cli_gold) and any(airflow_gold.values())
    for table in airflow_gold:
        assert airflow_gold[table] == cli_gold[table], table
    with db.connect(settings) as conn:
        sessions = conn.execute("select sessions from gold.kpi_summary").fetchone()[0]
    assert sessions == report.expected["viewing_sessions"].silver_rows
