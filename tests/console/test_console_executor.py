"""The Pipelines page's executor section: executor, workers, queue depth, worker per task."""

from __future__ import annotations

from datetime import datetime, timezone

from console import executor
from tests.support.console_fakes import WORKERS
from tests.support.console_helpers import no_exception, texts

SILVER = "dag_4_data_transformer_silver"


def metrics(at) -> dict[str, str]:
    return {m.label: str(m.value) for m in at.metric}


def test_executor_workers_and_queue_depth(loaded_db, fake_airflow, open_page):
    at = open_page("pipelines")
    no_exception(at)
    shown = metrics(at)
    assert shown["Executor"] == "CeleryExecutor"
    assert shown["Workers seen"] == "2"
    assert shown["Queued tasks"] == "3"
    assert shown["Running tasks"] == "1"
    workers = next(df.value for df in at.dataframe if "worker" in df.value.columns
                   and "running now" in df.value.columns)
    assert list(workers["worker"]) == WORKERS
    assert dict(zip(workers["worker"], workers["running now"])) == {WORKERS[0]: 0, WORKERS[1]: 1}
    assert ("task_instances_across_dags", "queued") in fake_airflow.calls


def test_each_task_instance_names_its_worker(loaded_db, fake_airflow, open_page):
    at = open_page("pipelines")
    at.selectbox(key="dag").select(SILVER).run()
    no_exception(at)
    tasks = next(df.value for df in at.dataframe if "task_id" in df.value.columns)
    assert dict(zip(tasks["task_id"], tasks["worker"])) == {
        "build_silver": WORKERS[0], "check_silver": WORKERS[1], "build_gold": WORKERS[0],
        "check_gold": WORKERS[1]}


def test_executor_hidden_by_the_api_is_said_plainly(loaded_db, fake_airflow, open_page):
    fake_airflow.executor = None
    at = open_page("pipelines")
    no_exception(at)
    assert metrics(at)["Executor"] == "not exposed"


def test_airflow_down_leaves_the_page_readable(loaded_db, fake_airflow, open_page):
    fake_airflow.down = True
    at = open_page("pipelines")
    no_exception(at)
    assert "Airflow unavailable" in texts(at)
    assert "Executor" not in metrics(at)


def test_workers_of_counts_tries_per_hostname():
    t = datetime(2026, 12, 1, tzinfo=timezone.utc)
    rows = [
        {"dag_id": "d", "task_id": "a", "state": "success", "hostname": "w1", "start_date": t},
        {"dag_id": "d", "task_id": "b", "state": "running", "hostname": "w2",
         "start_date": t.replace(hour=2)},
        {"dag_id": "d", "task_id": "c", "state": "success", "hostname": "w1",
         "start_date": t.replace(hour=3)},
        {"dag_id": "d", "task_id": "q", "state": "queued", "hostname": None, "start_date": None},
    ]
    frame = executor.workers_of(rows)
    assert list(frame["worker"]) == ["w1", "w2"]
    assert list(frame["tasks"]) == [2, 1] and list(frame["running now"]) == [0, 1]
    assert list(frame["last task"]) == ["d.c", "d.b"]
    assert executor.workers_of([]).empty
