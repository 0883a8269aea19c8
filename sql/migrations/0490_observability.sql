-- Observability (issue 16, items 1, 2 and 5): anomaly flags, gold freshness breaches and
-- a per-run history of the gold KPIs. Written by etl/observability/; read by the console.

-- One row per metric of one run that fell outside its robust baseline (median ± k·MAD of
-- the previous runs of the same series). Idempotent per (run, series): a re-evaluation
-- updates the numbers and never re-alerts (alerted_at is kept).
create table ops.anomalies (
    anomaly_id      bigserial primary key,
    run_id          text        not null,              -- the run that wrote the value
    layer           text        not null,              -- bronze | silver | gold
    subject         text        not null,              -- table (e.g. silver.users), or the layer for quality_score
    metric          text        not null,              -- rows_written | rejected_rows | quality_score
    reason          text        not null default '',   -- rejection reason for rejected_rows, else ''
    observed        double precision not null,
    baseline_median double precision not null,
    baseline_mad    double precision not null,
    lower_bound     double precision not null,
    upper_bound     double precision not null,
    history_runs    integer     not null,              -- runs the baseline was computed from
    direction       text        not null,              -- above | below the bounds
    run_at          timestamptz not null,              -- when the run wrote the value
    detected_at     timestamptz not null default now(),
    alerted_at      timestamptz,                       -- set once the alert went out: never sent twice
    resolved_at     timestamptz,
    resolution      text,                              -- recovered (a later run back in bounds) | acknowledged
    resolved_by     text,
    constraint anomalies_run_series_uq unique (run_id, subject, metric, reason),
    constraint anomalies_layer_check check (layer in ('bronze', 'silver', 'gold')),
    constraint anomalies_metric_check
        check (metric in ('rows_written', 'rejected_rows', 'quality_score')),
    constraint anomalies_direction_check check (direction in ('above', 'below')),
    constraint anomalies_resolution_check
        check ((resolved_at is null) = (resolution is null)
               and (resolution is null or resolution in ('recovered', 'acknowledged')))
);
create index anomalies_open_idx on ops.anomalies (run_at desc) where resolved_at is null;
create index anomalies_series_idx on ops.anomalies (subject, metric, reason, run_at desc);

-- One row per period during which a gold table was older than its allowed age. At most
-- one open breach per table; recovery closes it (recovered_at) rather than deleting it.
create table ops.freshness_breaches (
    breach_id           bigserial primary key,
    table_name          text        not null,          -- e.g. gold.kpi_summary
    max_age_hours       double precision not null,     -- the limit in force when detected
    last_built_at       timestamptz,                   -- last successful build then (null: never built)
    breached_at         timestamptz not null,          -- when it became stale: last_built_at + limit
    detected_at         timestamptz not null default now(),
    alerted_at          timestamptz,
    recovered_at        timestamptz,                   -- the successful build that ended the breach
    recovery_alerted_at timestamptz
);
create unique index freshness_breaches_open_uq on ops.freshness_breaches (table_name)
    where recovered_at is null;
create index freshness_breaches_breached_idx on ops.freshness_breaches (breached_at desc);

-- gold.kpi_summary is rebuilt by each run: its row is kept here per run, to compare runs.
-- jsonb rather than a copy of the columns, so that a column added to kpi_summary is
-- kept without a migration here.
create table ops.kpi_history (
    run_id      text        primary key,
    kpis        jsonb       not null,                  -- to_jsonb(gold.kpi_summary row)
    snapshot_at timestamptz not null default now()
);
create index kpi_history_snapshot_idx on ops.kpi_history (snapshot_at desc);
