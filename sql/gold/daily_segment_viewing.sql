-- gold.daily_segment_viewing: one row per (session_date, country, subscription_tier, device)
-- having sessions, with additive measures only, so the console sums any filter exactly and
-- derives ratios with gold.avg_session_minutes, gold.avg_completion_pct and
-- gold.completion_rate_pct. Users without a country form 'unknown' (as gold.country_insights).
-- depends_on: gold.fact_viewing
truncate gold.daily_segment_viewing;

insert into gold.daily_segment_viewing (
    session_date, country, subscription_tier, device, sessions, watch_seconds,
    sessions_with_completion, completion_pct_sum, completed_sessions
)
with

views as (
    select session_date, country, subscription_tier, device, watch_seconds, completion_pct,
           is_completed
    from gold.fact_viewing
),

labelled as (
    select
        session_date,
        coalesce(country, 'unknown') as country,
        subscription_tier,
        device,
        watch_seconds,
        completion_pct,
        is_completed
    from views
),

final as (
    select
        session_date,
        country,
        subscription_tier,
        device,
        count(*) as sessions,
        sum(watch_seconds) as watch_seconds,
        count(completion_pct) as sessions_with_completion,
        coalesce(sum(completion_pct::numeric), 0) as completion_pct_sum,
        count(*) filter (where is_completed) as completed_sessions
    from labelled
    group by session_date, country, subscription_tier, device
)

select * from final;
