"""A fake Airflow with the console client's methods (unit tests only)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from console.airflow_api import AirflowRequestFailed, AirflowUnavailable

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
DAG_IDS = ["dag_1_dw_layers_generator", "dag_2_data_ingesters", "dag_3_data_transformer_bronze",
           "dag_3_data_transformer_bronze_json", "dag_4_data_transformer_silver"]
WORKERS = ["worker-1@host-a", "worker-2@host-a"]


class FakeAirflow:
    """In-memory DAGs, runs and tasks; `down` or `refuse` make every call fail."""

    def __init__(self) -> None:
        self.down = False
        self.refuse = False
        self.refuse_actions = False  # reads work, state changes answer 409
        self.calls: list[tuple] = []
        self.paused = {dag_id: dag_id == "dag_1_dw_layers_generator" for dag_id in DAG_IDS}
        self.runs = {dag_id: [self._run(dag_id, i) for i in range(5)] for dag_id in DAG_IDS}
        self.triggered: list[tuple[str, dict]] = []
        self.executor: str | None = "CeleryExecutor"  # None: /config not exposed
        # Task instances running or queued right now, beside the finished ones of the runs.
        self.live: list[dict] = [
            {"dag_id": "dag_4_data_transformer_silver", "dag_run_id": "manual__live",
             "task_id": "build_gold", "map_index": -1, "state": "running", "try_number": 1,
             "max_tries": 3, "duration_seconds": None, "start_date": T0, "end_date": None,
             "operator": "@task", "hostname": WORKERS[1]},
            *({"dag_id": "dag_3_data_transformer_bronze", "dag_run_id": "manual__live",
               "task_id": f"queued_{n}", "map_index": -1, "state": "queued", "try_number": 0,
               "max_tries": 3, "duration_seconds": None, "start_date": None, "end_date": None,
               "operator": "@task", "hostname": None} for n in range(3)),
        ]

    def _run(self, dag_id: str, i: int) -> dict:
        start = T0 - timedelta(days=i)
        state = "failed" if (dag_id == "dag_4_data_transformer_silver" and i == 0) else "success"
        return {"dag_run_id": f"scheduled__{start:%Y-%m-%dT%H:%M}", "state": state,
                "run_type": "scheduled", "run_after": start, "start_date": start,
                "end_date": start + timedelta(seconds=60 + 7 * i), "duration_seconds": 60.0 + 7 * i,
                "conf": {}, "triggered_by": "timetable"}

    def _check(self, name: str, *args) -> None:
        self.calls.append((name, *args))
        if self.down:
            raise AirflowUnavailable("Airflow at http://fake:8080 is unreachable: connection refused. "
                                     "Start it with `medallion airflow up`, or set AIRFLOW_API_URL.")
        if self.refuse or (self.refuse_actions and name in ("trigger", "set_paused", "clear_failed")):
            raise AirflowRequestFailed(f"Airflow answered 409 Conflict to {name}: refused by fake")

    def list_dags(self) -> list[dict]:
        self._check("list_dags")
        return [{"dag_id": d, "is_paused": self.paused[d],
                 "schedule": "@daily" if d == "dag_2_data_ingesters" else "asset-triggered",
                 "description": "", "tags": ["medallion"], "next_run_at": T0 + timedelta(days=1),
                 "has_import_errors": False} for d in DAG_IDS]

    def dag_runs(self, dag_id: str, limit: int = 25) -> list[dict]:
        self._check("dag_runs", dag_id)
        return self.runs[dag_id][:limit]

    def task_instances(self, dag_id: str, dag_run_id: str) -> list[dict]:
        self._check("task_instances", dag_id, dag_run_id)
        run = next(r for r in self.runs[dag_id] if r["dag_run_id"] == dag_run_id)
        tasks = ["build_silver", "check_silver", "build_gold", "check_gold"]
        rows = []
        for i, task_id in enumerate(tasks):
            failed = run["state"] == "failed" and task_id == "check_silver"
            after_failure = run["state"] == "failed" and i > 1
            rows.append({"task_id": task_id, "map_index": -1,
                         "state": "failed" if failed else ("upstream_failed" if after_failure else "success"),
                         "try_number": 4 if failed else 1, "max_tries": 3,
                         "duration_seconds": 5.0 + i, "start_date": run["start_date"] + timedelta(seconds=10 * i),
                         "end_date": run["start_date"] + timedelta(seconds=10 * i + 5),
                         "operator": "@task", "hostname": WORKERS[i % len(WORKERS)]})
        return rows

    def config_value(self, section: str, option: str) -> str | None:
        self._check("config_value", section, option)
        return self.executor if (section, option) == ("core", "executor") else None

    def task_instances_across_dags(self, state: str | None = None,
                                   limit: int = 200) -> tuple[list[dict], int]:
        self._check("task_instances_across_dags", state)
        rows = [{"dag_id": dag_id, "dag_run_id": run["dag_run_id"], **ti}
                for dag_id in DAG_IDS for run in self.runs[dag_id][:2]
                for ti in self.task_instances(dag_id, run["dag_run_id"])]
        rows += self.live
        if state:
            rows = [r for r in rows if r["state"] == state]
        return rows[:limit], len(rows)

    def health(self) -> dict:
        self._check("health")
        return {"metadatabase": "healthy", "scheduler": "healthy", "triggerer": "healthy",
                "dag_processor": "healthy"}

    def log_tail(self, dag_id, dag_run_id, task_id, try_number, lines=100, map_index=-1) -> str:
        self._check("log_tail", dag_id, dag_run_id, task_id, try_number)
        return f"2026-11-20 06:00:01 INFO starting {task_id}\n2026-11-20 06:00:05 INFO done try {try_number}"

    def dag_params(self, dag_id: str) -> dict:
        self._check("dag_params", dag_id)
        return {"raw_dir": {"default": None, "schema": {"type": ["null", "string"]},
                            "description": "raw folder"},
                "full_refresh": {"default": False, "schema": {"type": "boolean"}, "description": ""}}

    def trigger(self, dag_id: str, conf: dict) -> dict:
        self._check("trigger", dag_id, conf)
        self.triggered.append((dag_id, conf))
        return {"dag_run_id": "manual__2026-11-26T18:00:00+00:00", "state": "queued"}

    def set_paused(self, dag_id: str, paused: bool) -> bool:
        self._check("set_paused", dag_id, paused)
        self.paused[dag_id] = paused
        return paused

    def clear_failed(self, dag_id: str, dag_run_id: str) -> list[str]:
        self._check("clear_failed", dag_id, dag_run_id)
        return ["check_gold", "check_silver", "build_gold"]
