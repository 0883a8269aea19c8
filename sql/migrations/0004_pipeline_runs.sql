-- One row per pipeline run (CLI `medallion run` or an Airflow DAG run): the monitoring metrics.
create table if not exists ops.pipeline_runs (
    run_id               text primary key,
    trigger              text        not null default 'cli',   -- cli | airflow
    dag_id               text,
    dag_run_id           text,
    status               text        not null default 'running', -- running | success | failed
    started_at           timestamptz not null default now(),
    finished_at          timestamptz,
    duration_seconds     double precision,
    tasks_succeeded      integer     not null default 0,
    tasks_failed         integer     not null default 0,
    rows_bronze          bigint,
    rows_silver          bigint,
    rows_gold            bigint,
    dq_score_bronze      double precision,
    dq_score_silver      double precision,
    dq_score_gold        double precision,
    earliest_file_modified_at timestamptz,
    gold_built_at        timestamptz,
    latency_seconds      double precision,    -- earliest file landing -> gold built
    error                text,
    details              jsonb       not null default '{}'::jsonb
);
create index if not exists pipeline_runs_started_at_idx on ops.pipeline_runs (started_at desc);
