-- Gold aggregates for the console's filtered views, and the KPI ratios defined once.
--
-- Both tables hold additive measures only, so any filter on their dimensions is summed
-- exactly: gold.daily_segment_viewing for sums, gold.user_daily_viewing for exact distinct
-- users (count(distinct user_id) over the rows a filter selects). Country follows
-- gold.country_insights: users without a country form 'unknown'.
create table if not exists gold.daily_segment_viewing (
    session_date             date not null,
    country                  text not null,
    subscription_tier        text not null,
    device                   text not null,
    sessions                 bigint not null,
    watch_seconds            bigint not null,
    sessions_with_completion bigint not null,  -- sessions with a completion_pct
    completion_pct_sum       numeric not null, -- sum of completion_pct (exact, so sums add up)
    completed_sessions       bigint not null,  -- sessions with is_completed
    primary key (session_date, country, subscription_tier, device)
);

create table if not exists gold.user_daily_viewing (
    user_id           text not null,
    session_date      date not null,
    device            text not null,
    country           text not null,
    subscription_tier text not null,
    sessions          bigint not null,
    watch_seconds     bigint not null,
    first_started_at  timestamptz not null,
    last_started_at   timestamptz not null,    -- decides the 720-hour activity window exactly
    primary key (user_id, session_date, device)
);
create index if not exists user_daily_viewing_session_date_idx
    on gold.user_daily_viewing (session_date);

-- The KPI ratios as functions of additive sums: every filtered view calls these, so each
-- formula has one home (data-contract §4: means and rates over no rows are null, sums 0).
create or replace function gold.watch_hours(watch_seconds numeric)
returns double precision
language sql immutable parallel safe
as $$ select (coalesce(watch_seconds, 0) / 3600.0)::double precision $$;

create or replace function gold.avg_session_minutes(watch_seconds numeric, sessions numeric)
returns double precision
language sql immutable parallel safe
as $$ select (watch_seconds / nullif(sessions, 0) / 60.0)::double precision $$;

create or replace function gold.avg_completion_pct(completion_pct_sum numeric,
                                                   sessions_with_completion numeric)
returns double precision
language sql immutable parallel safe
as $$ select (completion_pct_sum / nullif(sessions_with_completion, 0))::double precision $$;

create or replace function gold.completion_rate_pct(completed_sessions numeric,
                                                    sessions_with_completion numeric)
returns double precision
language sql immutable parallel safe
as $$ select (100.0 * completed_sessions / nullif(sessions_with_completion, 0))::double precision $$;

-- gold.kpi_summary's activity window: a user is active when a session started strictly
-- after the latest started_at (as_of) minus 720 hours.
create or replace function gold.active_window_start(as_of timestamptz)
returns timestamptz
language sql immutable parallel safe
as $$ select as_of - interval '720 hours' $$;
