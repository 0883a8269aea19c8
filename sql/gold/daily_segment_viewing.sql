-- gold.daily_segment_viewing: one row per (session_date, country, subscription_tier, device)
-- having sessions, with additive measures only, so the console sums any filter exactly and
-- derives ratios with gold.avg_session_minutes, gold.avg_completion_pct and
-- gold.completion_rate_pct. Users without a country form 'unknown' (as gold.country_insights).
--
-- The groups are maintained by adding signed facts, as in daily_viewing.sql: a full refresh
-- adds every fact once; an incremental run (etl/sql_runner.py, `-- mode:` sections) adds
-- the signed facts gold.fact_viewing left in ops.fact_viewing_delta (a fact that moves to
-- another country or tier leaves its old group and arrives in its new one). Every sum is
-- exact (bigint, numeric with trim_scale), so adding and subtracting equals summing at once;
-- a group whose sessions reach 0 is deleted.
-- depends_on: gold.fact_viewing
-- mode: full
delete from ops.fact_viewing_delta where consumer = 'gold.daily_segment_viewing';

truncate gold.daily_segment_viewing;

-- counts: read
create temporary table daily_segment_viewing_delta on commit drop as
select 1::smallint as sign, session_date, country, subscription_tier, device, watch_seconds,
       completion_pct, is_completed
from gold.fact_viewing;

-- mode: incremental
-- counts: read
create temporary table daily_segment_viewing_delta on commit drop as
with taken as (
    delete from ops.fact_viewing_delta where consumer = 'gold.daily_segment_viewing'
    returning sign, session_date, country, subscription_tier, device, watch_seconds,
              completion_pct, is_completed
)
select * from taken;

-- mode: all
create temporary table daily_segment_viewing_changes on commit drop as
with

labelled as (
    select
        sign,
        session_date,
        coalesce(country, 'unknown') as country,
        subscription_tier,
        device,
        watch_seconds,
        completion_pct,
        is_completed
    from daily_segment_viewing_delta
),

final as (
    select
        session_date,
        country,
        subscription_tier,
        device,
        sum(sign)::bigint as sessions,
        sum(sign * watch_seconds)::bigint as watch_seconds,
        sum(case when completion_pct is not null then sign else 0 end)::bigint
            as sessions_with_completion,
        trim_scale(coalesce(sum(sign * completion_pct::numeric), 0)) as completion_pct_sum,
        sum(case when is_completed then sign else 0 end)::bigint as completed_sessions
    from labelled
    group by session_date, country, subscription_tier, device
)

-- a change that leaves a group's sums as they were (a new title, say) writes nothing
select * from final
where (sessions, watch_seconds, sessions_with_completion, completion_pct_sum,
       completed_sessions) <> (0, 0, 0, 0, 0);

-- mode: full
insert into gold.daily_segment_viewing (
    session_date, country, subscription_tier, device, sessions, watch_seconds,
    sessions_with_completion, completion_pct_sum, completed_sessions
)
select * from daily_segment_viewing_changes;

-- mode: incremental
insert into gold.daily_segment_viewing as t (
    session_date, country, subscription_tier, device, sessions, watch_seconds,
    sessions_with_completion, completion_pct_sum, completed_sessions
)
select * from daily_segment_viewing_changes
on conflict (session_date, country, subscription_tier, device) do update set
    sessions = t.sessions + excluded.sessions,
    watch_seconds = t.watch_seconds + excluded.watch_seconds,
    sessions_with_completion = t.sessions_with_completion + excluded.sessions_with_completion,
    completion_pct_sum = trim_scale(t.completion_pct_sum + excluded.completion_pct_sum),
    completed_sessions = t.completed_sessions + excluded.completed_sessions;

delete from gold.daily_segment_viewing as t
using daily_segment_viewing_changes as c
where t.sessions = 0
  and t.session_date = c.session_date and t.country = c.country
  and t.subscription_tier = c.subscription_tier and t.device = c.device;
