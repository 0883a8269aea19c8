"""Who runs the tasks: Airflow's executor, its workers and the queue, from the REST API.

Airflow's API has no list of Celery workers, so a worker is what the task
instances say: each try records the `hostname` of the worker that ran it (with
the local CeleryExecutor, `worker-N@host`). A worker is "busy" while one of its
task instances is running. The queue depth is the number of task instances in
state `queued` (handed to the executor, not yet started by a worker). The
executor's name is read from `/config` when `[api] expose_config` allows it
(`medallion airflow up` and Compose set it; secrets stay masked).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from console.airflow_rest import AirflowClient

RECENT_TASKS = 200


@dataclass(frozen=True)
class ExecutorView:
    """What the Pipelines page shows about the executor."""

    executor: str | None  # None: the API does not expose the configuration
    queued: int
    running: int
    scheduler: str | None  # the scheduler's health, from /monitor/health
    workers: pd.DataFrame = field(default_factory=pd.DataFrame)


def workers_of(task_instances: list[dict]) -> pd.DataFrame:
    """One row per worker hostname: running now, tries seen, last start."""
    columns = ["worker", "running now", "tasks", "last task", "last started"]
    rows = [t for t in task_instances if t.get("hostname")]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    frame["start_date"] = pd.to_datetime(frame["start_date"], utc=True)
    frame = frame.sort_values("start_date", ascending=False, na_position="last")
    grouped = frame.groupby("hostname", sort=True)
    result = pd.DataFrame({
        "worker": list(grouped.groups),
        "running now": [int((g["state"] == "running").sum()) for _, g in grouped],
        "tasks": [len(g) for _, g in grouped],
        "last task": [f"{g.iloc[0]['dag_id']}.{g.iloc[0]['task_id']}" for _, g in grouped],
        "last started": [g["start_date"].max() for _, g in grouped],
    })
    return result[columns]


def summary(client: AirflowClient) -> ExecutorView:
    """The executor, the queue depth, what runs now and the workers seen in recent tries."""
    recent, _ = client.task_instances_across_dags(limit=RECENT_TASKS)
    _, queued = client.task_instances_across_dags(state="queued", limit=1)
    _, running = client.task_instances_across_dags(state="running", limit=1)
    health = client.health()
    scheduler = health.get("scheduler")
    if isinstance(scheduler, dict):
        scheduler = scheduler.get("status")
    return ExecutorView(executor=client.config_value("core", "executor"), queued=queued,
                        running=running, scheduler=scheduler, workers=workers_of(recent))
