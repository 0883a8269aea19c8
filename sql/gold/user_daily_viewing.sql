-- gold.user_daily_viewing: one row per (user_id, session_date, device) having sessions, with
-- the user's country ('unknown' when none, as gold.country_insights) and tier. Exact distinct
-- users under any filter are count(distinct user_id) over the rows it selects; active users
-- in the 720-hour window are those with a selected row whose last_started_at is after
-- gold.active_window_start(as_of), as_of being max(last_started_at) over the whole table.
-- depends_on: gold.fact_viewing
truncate gold.user_daily_viewing;

insert into gold.user_daily_viewing (
    user_id, session_date, device, country, subscription_tier, sessions, watch_seconds,
    first_started_at, last_started_at
)
with

views as (
    select user_id, session_date, device, country, subscription_tier, started_at, watch_seconds
    from gold.fact_viewing
),

labelled as (
    select
        user_id,
        session_date,
        device,
        coalesce(country, 'unknown') as country,
        subscription_tier,
        started_at,
        watch_seconds
    from views
),

final as (
    select
        user_id,
        session_date,
        device,
        country,
        subscription_tier,
        count(*) as sessions,
        sum(watch_seconds) as watch_seconds,
        min(started_at) as first_started_at,
        max(started_at) as last_started_at
    from labelled
    -- country and tier are the user's, so they do not split a user's day and device
    group by user_id, session_date, device, country, subscription_tier
)

select * from final;
