-- Which worker ran each task attempt: Airflow's task-instance hostname (with the local
-- CeleryExecutor, the worker's node name `worker-N@host`; in Compose or Kubernetes, the
-- container's host name). Null for CLI steps, for rows recorded before this column
-- existed and for attempts whose worker never reported.
alter table ops.task_runs add column if not exists hostname text;
create index if not exists task_runs_hostname_idx on ops.task_runs (hostname, started_at)
    where hostname is not null;
