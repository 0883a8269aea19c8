-- gold.country_insights: one row per user country; users without a country form 'unknown'.
-- Small: always recomputed whole from gold.user_engagement and its exact sums
-- (gold.user_engagement_totals, one row per user); only rows that differ are written, so a
-- run with nothing new changes nothing.
-- depends_on: gold.user_engagement
create temporary table country_insights_new on commit drop as
with

users as (
    select coalesce(u.country, 'unknown') as country, u.sessions, t.watch_seconds
    from gold.user_engagement as u
    join gold.user_engagement_totals as t on t.user_id = u.user_id
),

final as (
    select
        country,
        count(*) as users,
        count(*) filter (where sessions > 0) as active_users,
        coalesce(sum(sessions), 0)::bigint as sessions,
        coalesce(sum(watch_seconds) / 3600.0, 0)::double precision as total_watch_hours,
        (sum(watch_seconds) / nullif(sum(sessions), 0) / 60.0)::double precision
            as avg_session_minutes
    from users
    group by country
)

select * from final;

delete from gold.country_insights as t
where t.country in (
    select country from (select * from gold.country_insights
                         except all select * from country_insights_new) as gone);

insert into gold.country_insights
select * from country_insights_new
except all
select * from gold.country_insights;
