-- gold.user_engagement: one row per silver user, with a segment by total watch hours.
-- depends_on: silver.users, gold.fact_viewing
truncate gold.user_engagement;

insert into gold.user_engagement (
    user_id, country, subscription_tier, sessions, total_watch_hours, active_days,
    first_session_at, last_session_at, avg_session_minutes, segment
)
with

users as (
    select user_id, country, subscription_tier from silver.users
),

views as (
    select user_id, session_date, started_at, watch_seconds from gold.fact_viewing
),

per_user as (
    select
        user_id,
        count(*) as sessions,
        sum(watch_seconds) as watch_seconds,
        count(distinct session_date) as active_days,
        min(started_at) as first_session_at,
        max(started_at) as last_session_at,
        avg(watch_seconds) / 60.0 as avg_session_minutes
    from views
    group by user_id
),

measured as (
    select
        u.user_id,
        u.country,
        u.subscription_tier,
        coalesce(p.sessions, 0) as sessions,
        coalesce(p.watch_seconds / 3600.0, 0) as total_watch_hours,
        coalesce(p.active_days, 0) as active_days,
        p.first_session_at,
        p.last_session_at,
        p.avg_session_minutes
    from users as u
    left join per_user as p on p.user_id = u.user_id
),

final as (
    select
        user_id,
        country,
        subscription_tier,
        sessions,
        total_watch_hours::double precision as total_watch_hours,
        active_days,
        first_session_at,
        last_session_at,
        avg_session_minutes::double precision as avg_session_minutes,
        case
            when sessions = 0 then 'inactive'
            when total_watch_hours < 1 then 'light'
            when total_watch_hours < 10 then 'regular'
            else 'heavy'
        end as segment
    from measured
)

select * from final;
