-- gold.daily_viewing: one row per (session_date, device) having sessions.
-- depends_on: gold.fact_viewing
truncate gold.daily_viewing;

insert into gold.daily_viewing (
    session_date, device, sessions, unique_users, total_watch_hours, avg_completion_pct
)
with

views as (
    select session_date, device, user_id, watch_seconds, completion_pct from gold.fact_viewing
),

final as (
    select
        session_date,
        device,
        count(*) as sessions,
        count(distinct user_id) as unique_users,
        (sum(watch_seconds) / 3600.0)::double precision as total_watch_hours,
        avg(completion_pct::numeric)::double precision as avg_completion_pct
    from views
    group by session_date, device
)

select * from final;
