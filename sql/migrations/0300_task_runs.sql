-- Monitoring detail behind ops.pipeline_runs: one row per task attempt of a run
-- (Airflow task try or CLI step), so success/failure/retry counts and rows per
-- layer can be recomputed from facts rather than trusted from counters.
create table if not exists ops.task_runs (
    run_id           text        not null references ops.pipeline_runs (run_id) on delete cascade,
    task_id          text        not null,
    try_number       integer     not null default 1,
    state            text        not null,             -- running | success | failed | up_for_retry | skipped
    layer            text,                             -- bronze | silver | gold (null for other steps)
    rows             bigint,                           -- rows written by a load or build step
    started_at       timestamptz,
    finished_at      timestamptz,
    duration_seconds double precision,
    error            text,
    details          jsonb       not null default '{}'::jsonb,
    recorded_at      timestamptz not null default now(),
    primary key (run_id, task_id, try_number),
    constraint task_runs_state_check
        check (state in ('running', 'success', 'failed', 'up_for_retry', 'skipped')),
    constraint task_runs_layer_check
        check (layer is null or layer in ('bronze', 'silver', 'gold'))
);
create index if not exists task_runs_recorded_idx on ops.task_runs (recorded_at desc);

-- Retries are part of "task success and failure rates": a try that failed and was retried.
alter table ops.pipeline_runs add column if not exists tasks_retried integer not null default 0;
create index if not exists pipeline_runs_dag_idx on ops.pipeline_runs (dag_id, started_at desc);
create index if not exists pipeline_runs_gold_built_idx on ops.pipeline_runs (gold_built_at desc)
    where gold_built_at is not null;
