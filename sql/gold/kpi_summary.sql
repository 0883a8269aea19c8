-- gold.kpi_summary: one row. as_of is the latest started_at; active_users_30d counts users
-- with a session started strictly after as_of minus 720 hours.
-- depends_on: silver.users, gold.fact_viewing
truncate gold.kpi_summary;

insert into gold.kpi_summary (
    users, active_users_30d, sessions, total_watch_hours, avg_session_minutes,
    avg_completion_pct, completion_rate_pct, as_of
)
with

users as (
    select count(*) as users from silver.users
),

views as (
    select user_id, started_at, watch_seconds, completion_pct, is_completed from gold.fact_viewing
),

totals as (
    select
        count(*) as sessions,
        coalesce(sum(watch_seconds), 0) / 3600.0 as total_watch_hours,
        avg(watch_seconds) / 60.0 as avg_session_minutes,
        avg(completion_pct::numeric) as avg_completion_pct,
        100.0 * count(*) filter (where is_completed) / nullif(count(completion_pct), 0)
            as completion_rate_pct,
        max(started_at) as as_of
    from views
),

active_users as (
    select v.user_id
    from views as v
    cross join totals as t
    where v.started_at > t.as_of - interval '720 hours'
    group by v.user_id
),

active as (
    select count(*) as active_users_30d from active_users
),

final as (
    select
        u.users,
        a.active_users_30d,
        t.sessions,
        t.total_watch_hours::double precision as total_watch_hours,
        t.avg_session_minutes::double precision as avg_session_minutes,
        t.avg_completion_pct::double precision as avg_completion_pct,
        t.completion_rate_pct::double precision as completion_rate_pct,
        t.as_of
    from users as u
    cross join totals as t
    cross join active as a
)

select * from final;
