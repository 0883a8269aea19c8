"""The whole chain on the CeleryExecutor: two workers, one of them SIGKILLed mid-task.

A local Airflow (`stack.airflow_local`, MEDALLION_EXECUTOR=celery) with two
`airflow celery worker` processes on the machine's Redis (a Redis database of
its own, found empty and flushed afterwards) runs `dag_2_data_ingesters`,
triggered through the REST API, and the chain it sets off (both dag_3 DAGs,
then dag_4). Each worker runs one task at a time (MEDALLION_WORKER_CONCURRENCY=1):
when both dag_3 loads are queued together, the busy worker leaves the second
to the idle one, which spreads the chain across both workers.

The test holds a lock on the table `build_silver` writes, so that task waits in
PostgreSQL; once it has run for a second on a worker that has already finished a task,
that worker's
whole process tree (Celery's main process, its pool, Airflow's supervisor and the
task process) is SIGKILLed, as a lost machine would be. The scheduler notices
the missing heartbeats (TASK_INSTANCE_HEARTBEAT_TIMEOUT shortened for the test),
the task is retried on the surviving worker and finishes; then:

- every DAG run succeeds; the killed try ran on the killed worker, the retry on the other;
- `ops.task_runs.hostname` names both workers among the successful tasks;
- no worker ever ran more tasks at once than its concurrency (Airflow's task
  instance tries and `ops.task_runs` intervals, per hostname);
- `medallion airflow status` shows the killed worker down and the other up;
- gold equals what `medallion run` builds from the same files in another database.
"""

from __future__ import annotations

import logging
import os
import signal
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import psutil
import psycopg
import pytest

from etl import pipeline, schema, synth
from etl.settings import get_settings, reset_settings
from stack import airflow_local, celery_local
from stack.services import free_port
from tests.e2e.test_airflow_e2e import _clone, _drop, _gold
from tests.support.envtools import restore_environ

pytestmark = pytest.mark.slow
log = logging.getLogger(__name__)

WAIT_SECONDS = 420  # a guard against hanging forever, not a performance assertion
CHAIN = ("dag_2_data_ingesters", "dag_3_data_transformer_bronze",
         "dag_3_data_transformer_bronze_json", "dag_4_data_transformer_silver")
WORKERS = 2
CONCURRENCY = 1
HEARTBEAT_TIMEOUT_SECONDS = 30
# The task that is killed mid-way: the test holds a lock on the table it writes, so it
# stays running (waiting on PostgreSQL, as a long statement would) until the kill.
HELD_TASK, HELD_TABLE = "build_silver", "silver.viewing_sessions"
REDIS = "redis://127.0.0.1:6379"


def _free_redis_db() -> int:
    """An empty Redis database (1..15), so no other Celery app shares our queues."""
    import redis

    for number in range(15, 0, -1):
        client = redis.Redis.from_url(f"{REDIS}/{number}")
        try:
            if client.dbsize() == 0:
                client.set("medallion:e2e:claimed", "1", ex=3600)
                return number
        finally:
            client.close()
    pytest.fail("no empty Redis database on 127.0.0.1:6379 for the Celery e2e test")


def _flush_redis_db(number: int) -> None:
    import redis

    client = redis.Redis.from_url(f"{REDIS}/{number}")
    try:
        client.flushdb()
    finally:
        client.close()


class Api:
    """The few REST calls the test needs (JWT from /auth/token)."""

    def __init__(self, settings):
        from console.airflow_rest import client_from_settings

        self.client = client_from_settings(settings, timeout=30)

    def get(self, path: str) -> dict:
        return self.client.request("GET", path)

    def runs(self, dag_id: str) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns?limit=100")["dag_runs"]

    def running(self) -> list[dict]:
        return self.get("/dags/~/dagRuns/~/taskInstances?state=running&limit=100")["task_instances"]

    def tries(self, dag_id: str) -> list[dict]:
        """Every try of every task of every run of dag_id."""
        found = []
        for run in self.runs(dag_id):
            for ti in self.get(f"/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances"
                               )["task_instances"]:
                found += self.get(f"/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances/"
                                  f"{ti['task_id']}/tries")["task_instances"]
        return found


def _wait(predicate, what: str, interval: float = 1.0):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out waiting for {what}; logs in {os.environ['MEDALLION_HOME']}/logs")


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _max_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    """The most intervals open at one instant (an end at t closes before a start at t)."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals],
                    key=lambda e: (e[0], e[1]))
    open_, most = 0, 0
    for _, step in events:
        open_ += step
        most = max(most, open_)
    return most


def _kill_tree(pid: int) -> list[int]:
    """SIGKILL a process and all its descendants at once (Airflow's task runs in its own group)."""
    root = psutil.Process(pid)
    procs = [root, *root.children(recursive=True)]
    for proc in procs:
        try:
            proc.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=10)
    return [p.pid for p in procs]


@pytest.fixture
def celery_stack(template_db, mongo_server, tmp_path_factory):
    base = tmp_path_factory.mktemp("celery-e2e")
    raw = base / "raw"
    report = synth.generate(raw, users=200, sessions=30_000, contents=60, days=20, seed=5,
                            dirty_rate=0.03)
    database = _clone(template_db)
    redis_db = _free_redis_db()
    overrides = {
        "MEDALLION_HOME": str(base / "home"),
        "POSTGRES_DB": database,
        "MONGO_DB": database,
        "RAW_DATA_PATH": str(raw),
        "AIRFLOW_API_URL": f"http://127.0.0.1:{free_port()}",
        "AIRFLOW_USERNAME": "celery",
        "AIRFLOW_PASSWORD": uuid.uuid4().hex,
        "MEDALLION_RETRY_DELAY_SECONDS": "2",
        "MEDALLION_INGEST_SCHEDULE": "none",  # only our trigger runs dag_2
        "ENABLE_DATA_QUALITY_CHECKS": "true",
        "MEDALLION_EXECUTOR": "celery",
        "CELERY_BROKER_URL": f"{REDIS}/{redis_db}",
        "MEDALLION_CELERY_WORKERS": str(WORKERS),
        "MEDALLION_WORKER_CONCURRENCY": str(CONCURRENCY),
    }
    saved = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)
    reset_settings()
    settings = get_settings()
    env = airflow_local.airflow_env(settings, extra={
        # A killed worker's task is noticed after this many seconds without a heartbeat.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT_SECONDS),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    })
    try:
        airflow_local.up(settings, env=env)
        yield settings, report
    finally:
        airflow_local.down()
        airflow_local.drop_metadata_database(settings)
        _drop(database)
        _flush_redis_db(redis_db)
        restore_environ(saved)
        reset_settings()


def _successful_hosts(database: str) -> set[str]:
    with psycopg.connect(**get_settings().libpq_kwargs(database)) as conn:
        return {r[0] for r in conn.execute(
            "select distinct hostname from ops.task_runs where state = 'success' "
            "and hostname is not null")}


def _kill_a_busy_worker(api: Api, settings) -> tuple[dict, str]:
    """SIGKILL the worker of a task that is running on a worker which already finished one.

    Returns the running task instance and the killed worker's node name.
    """
    workers = {celery_local.node_name(n): n for n in celery_local.worker_names(settings)}

    def target():
        running = [ti for ti in api.running() if ti["dag_id"] in CHAIN and ti.get("hostname")]
        if not running:
            return None
        done = _successful_hosts(settings.postgres_db)
        now = datetime.now(timezone.utc)
        for ti in running:
            started = _when(ti.get("start_date"))
            # "Mid-task": the held task, past start-up, on a worker that has already proved
            # itself. It waits on the test's lock, so it is still running when the kill lands
            # (the API's "running" lags the worker: a task caught by its age alone may have
            # finished by then).
            if (ti["task_id"] == HELD_TASK and ti["hostname"] in done and started
                    and (now - started).total_seconds() >= 1.0):
                return ti
        return None

    ti = _wait(target, "a task running on a worker that already finished one", interval=0.3)
    node = ti["hostname"]
    assert node in workers, f"{node} is not one of our workers {sorted(workers)}"
    pid = airflow_local.read_pid(airflow_local._worker_pid_file(workers[node]))
    assert pid is not None
    killed = _kill_tree(pid)
    log.info("SIGKILLed %s (%d processes) while %s.%s ran", node, len(killed), ti["dag_id"],
             ti["task_id"])
    return ti, node


def test_the_chain_survives_a_killed_celery_worker(celery_stack, template_db):
    settings, report = celery_stack
    started = time.monotonic()
    api = Api(settings)
    statuses = {s.name: s.state for s in airflow_local.status(settings)}
    assert statuses == {**{c: "up" for c in airflow_local.COMPONENTS},
                        "celery worker-1": "up", "celery worker-2": "up"}
    holder = psycopg.connect(**get_settings().libpq_kwargs(settings.postgres_db))
    holder.execute(f"lock table {HELD_TABLE} in access exclusive mode")  # until the kill
    try:
        trigger = api.client.trigger("dag_2_data_ingesters", {})
        assert trigger["dag_run_id"]
        victim, killed_node = _kill_a_busy_worker(api, settings)
    finally:
        holder.rollback()
        holder.close()
    survivor = ({celery_local.node_name(n) for n in celery_local.worker_names(settings)}
                - {killed_node}).pop()
    statuses = {s.name: s.state for s in airflow_local.worker_statuses(settings)}
    assert sorted(statuses.values()) == ["down", "up"], statuses

    def chain_finished():
        runs = {d: api.runs(d) for d in CHAIN}
        if all(len(r) == 1 and r[0]["state"] in ("success", "failed") for r in runs.values()):
            return runs
        return None

    runs = _wait(chain_finished, "the chain of DAG runs to finish", interval=2)
    assert {d: [r["state"] for r in rs] for d, rs in runs.items()} == {d: ["success"] for d in CHAIN}

    # The killed try ran on the killed worker; the retry on the survivor, and it finished.
    tries = {d: api.tries(d) for d in CHAIN}
    victim_tries = sorted((t for t in tries[victim["dag_id"]] if t["task_id"] == victim["task_id"]),
                          key=lambda t: t["try_number"])
    assert victim_tries[0]["try_number"] == victim["try_number"]
    assert victim_tries[0]["hostname"] == killed_node
    assert victim_tries[0]["state"] in ("failed", "up_for_retry")
    assert victim_tries[-1]["try_number"] > victim["try_number"]
    assert (victim_tries[-1]["state"], victim_tries[-1]["hostname"]) == ("success", survivor)

    # Both workers ran tasks, as ops.task_runs records them; every successful try names its worker.
    with psycopg.connect(**get_settings().libpq_kwargs(settings.postgres_db)) as conn:
        rows = conn.execute(
            "select run_id, task_id, try_number, state, hostname, started_at, finished_at "
            "from ops.task_runs where run_id like any(%s)",
            ([f"{d}:%" for d in CHAIN],)).fetchall()
    succeeded = [r for r in rows if r[3] == "success"]
    assert len(succeeded) == 11  # every task of the chain (dag_4: 5), once
    assert {r[4] for r in succeeded} == {killed_node, survivor}
    retried = [r for r in rows if r[1] == victim["task_id"] and r[2] == victim["try_number"]]
    assert [r[3] for r in retried] == ["up_for_retry"]

    # Concurrency held: never more tasks at once on a worker than it runs in parallel.
    all_tries = [t for ts in tries.values() for t in ts]
    for node in (killed_node, survivor):
        intervals = [(_when(t["start_date"]), _when(t["end_date"])) for t in all_tries
                     if t["hostname"] == node and t["start_date"] and t["end_date"]]
        assert intervals and _max_overlap(intervals) <= CONCURRENCY, (node, intervals)
        recorded = [(r[5], r[6]) for r in succeeded if r[4] == node]
        assert _max_overlap(recorded) <= CONCURRENCY, (node, recorded)
    everything = [(_when(t["start_date"]), _when(t["end_date"])) for t in all_tries
                  if t["start_date"] and t["end_date"]]
    assert _max_overlap(everything) <= WORKERS * CONCURRENCY

    # Gold equals a `medallion run` of the same files in another database.
    airflow_gold = _gold(settings.postgres_db)
    cli_db = _clone(template_db)
    try:
        os.environ["POSTGRES_DB"] = os.environ["MONGO_DB"] = cli_db
        reset_settings()
        schema.init_mongo(get_settings())
        pipeline.run(Path(settings.raw_data_path), settings=get_settings(), checks=False)
        cli_gold = _gold(cli_db)
    finally:
        os.environ["POSTGRES_DB"] = os.environ["MONGO_DB"] = settings.postgres_db
        reset_settings()
        _drop(cli_db)
    assert set(airflow_gold) == set(cli_gold) and any(airflow_gold.values())
    for table in airflow_gold:
        assert airflow_gold[table] == cli_gold[table], table
    log.info("celery e2e: chain, kill, retry and gold comparison in %.0fs",
             time.monotonic() - started)
