-- gold.kpi_summary: one row. as_of is the latest started_at; active_users_30d counts users
-- with a session started strictly after as_of minus 720 hours, which is a user whose
-- last_session_at is after it. Always recomputed from gold.user_engagement and its exact
-- sums (gold.user_engagement_totals, one row per user); rewritten only when it differs.
-- depends_on: gold.user_engagement
create temporary table kpi_summary_new on commit drop as
with

users as (
    select u.sessions, u.last_session_at, t.watch_seconds, t.completion_sum,
           t.completion_count, t.completed_count
    from gold.user_engagement as u
    join gold.user_engagement_totals as t on t.user_id = u.user_id
),

totals as (
    select
        count(*) as users,
        coalesce(sum(sessions), 0)::bigint as sessions,
        coalesce(sum(watch_seconds), 0) / 3600.0 as total_watch_hours,
        sum(watch_seconds) / nullif(sum(sessions), 0) / 60.0 as avg_session_minutes,
        sum(completion_sum) / nullif(sum(completion_count), 0) as avg_completion_pct,
        100.0 * sum(completed_count) / nullif(sum(completion_count), 0) as completion_rate_pct,
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
        t.avg_completion_pct::double precision as avg_completion_pct,
        t.completion_rate_pct::double precision as completion_rate_pct,
        t.as_of
    from totals as t
    cross join active as a
)

select * from final;

delete from gold.kpi_summary
where exists (select * from gold.kpi_summary except all select * from kpi_summary_new);

insert into gold.kpi_summary
select * from kpi_summary_new
except all
select * from gold.kpi_summary;
