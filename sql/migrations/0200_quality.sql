-- Data quality: every Soda check result, capped failed-row samples, one score per layer and run.
create table if not exists ops.dq_check_results (
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
create index if not exists dq_check_results_run_idx on ops.dq_check_results (run_id, layer);
create index if not exists dq_check_results_measured_idx on ops.dq_check_results (measured_at desc);
create index if not exists dq_check_results_check_idx on ops.dq_check_results (table_name, check_name);

create table if not exists ops.dq_failed_rows (
    result_id   bigint      not null references ops.dq_check_results (result_id) on delete cascade,
    row_number  integer     not null,
    row_data    jsonb       not null,
    primary key (result_id, row_number)
);

create table if not exists ops.dq_scores (
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
create index if not exists dq_scores_measured_idx on ops.dq_scores (layer, measured_at desc);
