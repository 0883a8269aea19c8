-- gold.kpi_summary: one row. as_of is the latest started_at; active_users_30d counts users
-- with a session started strictly after as_of minus 720 hours, which is a user whose
-- last_session_at is after it. Always recomputed from small exact aggregates: per user
-- (gold.user_engagement, gold.user_engagement_totals) for users, sessions, hours and the
-- window, per content (gold.content_performance_totals) for completion; the row is
-- rewritten only when it differs.
-- depends_on: gold.user_engagement, gold.content_performance_totals
create temporary table kpi_summary_new on commit drop as
with

users as (
    select u.sessions, u.last_session_at, t.watch_seconds
    from gold.user_engagement as u
    join gold.user_engagement_totals as t on t.user_id = u.user_id
),

completion as (
    select
        sum(completion_sum) / nullif(sum(completion_count), 0) as avg_completion_pct,
        100.0 * sum(completed_count) / nullif(sum(completion_count), 0) as completion_rate_pct
    from gold.content_performance_totals
),

totals as (
    select
        count(*) as users,
        coalesce(sum(sessions), 0)::bigint as sessions,
        coalesce(sum(watch_seconds), 0) / 3600.0 as total_watch_hours,
        sum(watch_seconds) / nullif(sum(sessions), 0) / 60.0 as avg_session_minutes,
        max(last_session_at) as as_of
    from users
),

active as (
    select count(*) as active_users_30d
    from users as u
    cross join totals as t
    where u.last_session_at > t.as_of - interval '720 hours'
),

final as (
    select
        t.users,
        a.active_users_30d,
        t.sessions,
        t.total_watch_hours::double precision as total_watch_hours,
        t.avg_session_minutes::double precision as avg_session_minutes,
        c.avg_completion_pct::double precision as avg_completion_pct,
        c.completion_rate_pct::double precision as completion_rate_pct,
        t.as_of
    from totals as t
    cross join active as a
    cross join completion as c
)

select * from final;

delete from gold.kpi_summary
where exists (select * from gold.kpi_summary except all select * from kpi_summary_new);

insert into gold.kpi_summary
select * from kpi_summary_new
except all
select * from gold.kpi_summary;
