-- The SQL runner's history: one row per model run, and the accounting identity per entity.
create table if not exists ops.model_runs (
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
create index if not exists model_runs_run_idx on ops.model_runs (run_id);
create index if not exists model_runs_started_idx on ops.model_runs (started_at desc);

-- bronze_rows = silver_rows + superseded_rows + rejected_rows, recorded per run and entity.
create table if not exists ops.entity_accounting (
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
create index if not exists entity_accounting_measured_idx on ops.entity_accounting (measured_at desc);
