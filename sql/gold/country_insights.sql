-- gold.country_insights: one row per user country; users without a country form 'unknown'.
-- depends_on: silver.users, gold.fact_viewing
truncate gold.country_insights;

insert into gold.country_insights (
    country, users, active_users, sessions, total_watch_hours, avg_session_minutes
)
with

users as (
    select user_id, coalesce(country, 'unknown') as country from silver.users
),

views as (
    select user_id, watch_seconds from gold.fact_viewing
),

per_user as (
    select user_id, count(*) as sessions, sum(watch_seconds) as watch_seconds
    from views
    group by user_id
),

final as (
    select
        u.country,
        count(*) as users,
        count(p.user_id) as active_users,
        coalesce(sum(p.sessions), 0) as sessions,
        coalesce(sum(p.watch_seconds) / 3600.0, 0)::double precision as total_watch_hours,
        (sum(p.watch_seconds) / nullif(sum(p.sessions), 0) / 60.0)::double precision
            as avg_session_minutes
    from users as u
    left join per_user as p on p.user_id = u.user_id
    group by u.country
)

select * from final;
