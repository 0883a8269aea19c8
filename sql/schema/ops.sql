-- ops: how the pipeline ran. The ingestion registry, pipeline/task/model runs, the
-- accounting identity, data-quality results and the console's audit trail.
-- `ops.schema_migrations` itself is created by etl/schema.py before anything else
-- is applied, since it records what was.
create schema if not exists ops;

-- One row per raw file seen by an ingestion: the registry that makes loads idempotent.
create table ops.ingestion_log (
    ingestion_id     bigserial primary key,
    source_file      text        not null,             -- relative to RAW_DATA_PATH, '/' separators
    sha256           text,
    entity           text,                             -- users | viewing_sessions | content (null when ignored)
    status           text        not null,
    rows_loaded      bigint      not null default 0,
    encoding         text,
    error            text,
    started_at       timestamptz not null default now(),
    finished_at      timestamptz,
    file_size_bytes  bigint,
    file_modified_at timestamptz,                      -- the file's mtime: start of end-to-end latency
    compression      text,                             -- gzip or null
    file_format      text,                             -- csv | json | jsonl
    run_id           text,                             -- ops.pipeline_runs.run_id when known
    constraint ingestion_log_status_check
        check (status in ('loaded', 'skipped_duplicate', 'rejected', 'ignored')),
    constraint ingestion_log_entity_check
        check (entity is null or entity in ('users', 'viewing_sessions', 'content')),
    constraint ingestion_log_encoding_check
        check (encoding is null or encoding in ('utf-8', 'cp1252')),
    constraint ingestion_log_error_when_rejected
        check (status <> 'rejected' or coalesce(btrim(error), '') <> '')
);
-- A content (SHA-256) is loaded at most once: this also stops two concurrent runs
-- from loading the same file twice.
create unique index ingestion_log_loaded_sha256_uq
    on ops.ingestion_log (sha256) where status = 'loaded';
create index ingestion_log_source_file_idx on ops.ingestion_log (source_file);
create index ingestion_log_started_at_idx on ops.ingestion_log (started_at);
create index ingestion_log_run_id_idx on ops.ingestion_log (run_id);

-- Files validated by registration (dag_2) but not loaded yet (dag_3). Kept apart
-- from ops.ingestion_log so that its status only ever holds the contract's four values.
create table ops.ingestion_queue (
    queue_id         bigserial   primary key,
    source_file      text        not null,             -- relative to the raw dir used, '/' separators
    file_path        text        not null,             -- absolute path at registration
    sha256           text        not null,
    entity           text        not null,
    file_format      text        not null,             -- csv | json | jsonl
    compression      text,                             -- gzip or null
    encoding         text        not null,             -- utf-8 | cp1252
    file_size_bytes  bigint      not null,
    file_mtime_ns    bigint      not null,             -- to notice a file changed before loading
    file_modified_at timestamptz,
    run_id           text,
    registered_at    timestamptz not null default now(),
    constraint ingestion_queue_file_uq unique (source_file, sha256),
    constraint ingestion_queue_entity_check check (entity in ('users', 'viewing_sessions', 'content')),
    constraint ingestion_queue_encoding_check check (encoding in ('utf-8', 'cp1252'))
);

-- One row per pipeline run (CLI `medallion run` or an Airflow DAG run): the monitoring metrics.
create table ops.pipeline_runs (
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
    details              jsonb       not null default '{}'::jsonb,
    -- Retries are part of "task success and failure rates": a try that failed and was retried.
    tasks_retried        integer     not null default 0
);
create index pipeline_runs_started_at_idx on ops.pipeline_runs (started_at desc);
create index pipeline_runs_dag_idx on ops.pipeline_runs (dag_id, started_at desc);
create index pipeline_runs_gold_built_idx on ops.pipeline_runs (gold_built_at desc)
    where gold_built_at is not null;

-- Monitoring detail behind ops.pipeline_runs: one row per task attempt of a run
-- (Airflow task try or CLI step), so success/failure/retry counts and rows per
-- layer can be recomputed from facts rather than trusted from counters.
create table ops.task_runs (
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
create index task_runs_recorded_idx on ops.task_runs (recorded_at desc);

-- The SQL runner's history: one row per model run.
create table ops.model_runs (
    model_run_id     bigserial primary key,
    run_id           text        not null,            -- one `transform` invocation (or pipeline run)
    model            text        not null,            -- e.g. silver.users
    layer            text        not null,            -- silver | gold
    started_at       timestamptz not null,
    finished_at      timestamptz,
    duration_seconds double precision,
    rows             bigint,
    status           text        not null,            -- running | success | failed | skipped
    error            text,
    full_refresh     boolean     not null default false
);
create index model_runs_run_idx on ops.model_runs (run_id);
create index model_runs_started_idx on ops.model_runs (started_at desc);

-- bronze_rows = silver_rows + superseded_rows + rejected_rows, recorded per run and entity.
create table ops.entity_accounting (
    run_id             text        not null,
    entity             text        not null,          -- users | viewing_sessions | content
    bronze_rows        bigint      not null,
    silver_rows        bigint      not null,
    superseded_rows    bigint      not null,
    rejected_rows      bigint      not null,
    rejected_by_reason jsonb       not null default '{}'::jsonb,
    measured_at        timestamptz not null default now(),
    primary key (run_id, entity)
);
create index entity_accounting_measured_idx on ops.entity_accounting (measured_at desc);

-- The accounting identity of one silver build, from the model's staging table
-- (one row per bronze row, with `outcome` silver | superseded | rejected and
-- the rejection `reason`), written to ops.entity_accounting for the run in
-- `medallion.run_id`. One function, so the three silver models share one rule.
create function ops.record_entity_accounting(p_entity text, p_staged regclass)
returns void
language plpgsql
as $fn$
begin
    execute format($sql$
        insert into ops.entity_accounting (
            run_id, entity, bronze_rows, silver_rows, superseded_rows, rejected_rows,
            rejected_by_reason
        )
        select
            current_setting('medallion.run_id'),
            %1$L,
            count(*),
            count(*) filter (where outcome = 'silver'),
            count(*) filter (where outcome = 'superseded'),
            count(*) filter (where outcome = 'rejected'),
            coalesce((select jsonb_object_agg(reason, n) from (
                select reason, count(*) as n from %2$s where reason is not null group by reason
            ) as r), '{}'::jsonb)
        from %2$s
        on conflict (run_id, entity) do update set
            bronze_rows = excluded.bronze_rows, silver_rows = excluded.silver_rows,
            superseded_rows = excluded.superseded_rows, rejected_rows = excluded.rejected_rows,
            rejected_by_reason = excluded.rejected_by_reason, measured_at = now()
    $sql$, p_entity, p_staged);
end
$fn$;

-- Data quality: every Soda check result, capped failed-row samples, one score per layer and run.
create table ops.dq_check_results (
    result_id      bigserial primary key,
    run_id         text        not null,
    layer          text        not null,              -- bronze | silver | gold
    table_name     text        not null,              -- e.g. silver.users
    check_name     text        not null,
    outcome        text        not null,              -- pass | warn | fail | error
    measured_value double precision,
    thresholds     text,                               -- the check's condition as written
    dimension      text,                               -- completeness, uniqueness, validity, ...
    weight         double precision not null default 1,
    is_critical    boolean     not null default false,
    measured_at    timestamptz not null default now(),
    constraint dq_check_results_outcome_check check (outcome in ('pass', 'warn', 'fail', 'error'))
);
create index dq_check_results_run_idx on ops.dq_check_results (run_id, layer);
create index dq_check_results_measured_idx on ops.dq_check_results (measured_at desc);
create index dq_check_results_check_idx on ops.dq_check_results (table_name, check_name);

create table ops.dq_failed_rows (
    result_id   bigint      not null references ops.dq_check_results (result_id) on delete cascade,
    row_number  integer     not null,
    row_data    jsonb       not null,
    primary key (result_id, row_number)
);

create table ops.dq_scores (
    run_id       text        not null,
    layer        text        not null,
    score        double precision not null check (score between 0 and 100),
    measured_at  timestamptz not null default now(),
    checks_total integer     not null,
    checks_pass  integer     not null,
    checks_warn  integer     not null,
    checks_fail  integer     not null,
    critical_failures integer not null default 0,
    primary key (run_id, layer)
);
create index dq_scores_measured_idx on ops.dq_scores (layer, measured_at desc);

-- Every state-changing action taken from the operations console: who, when, what, outcome.
create table ops.console_audit (
    audit_id  bigserial primary key,
    acted_at  timestamptz not null default now(),
    actor     text        not null,                   -- the signed-in console user
    action    text        not null,                   -- trigger | pause | unpause | clear_failed
    target    text        not null,                   -- dag_id, or dag_id/dag_run_id
    params    jsonb       not null default '{}'::jsonb,
    outcome   text        not null,                   -- success | failure | rejected (invalid input, not sent)
    detail    text,                                   -- the result or the error, as shown to the user
    constraint console_audit_outcome_check check (outcome in ('success', 'failure', 'rejected'))
);
create index console_audit_acted_at_idx on ops.console_audit (acted_at desc);
