-- gold.daily_viewing: one row per (session_date, device) having sessions; and
-- gold.daily_viewing_totals, its additive state (sessions, unique_users and the exact sums
-- behind the hours and the mean).
--
-- The totals are maintained by adding signed facts, as in content_performance.sql: a full
-- refresh adds every fact once; an incremental run (etl/sql_runner.py, `-- mode:` sections)
-- adds the signed facts gold.fact_viewing left in ops.fact_viewing_delta. A user counts for
-- a (date, device) when they have at least one fact there: the pairs a change touches are
-- looked up after it (by index). The contract columns are derived from the totals once,
-- below, for every date a change touched.
-- builds: gold.daily_viewing_totals
-- depends_on: gold.fact_viewing
-- mode: full
delete from ops.fact_viewing_delta where consumer = 'gold.daily_viewing';

truncate gold.daily_viewing, gold.daily_viewing_totals;

-- counts: read
create temporary table daily_viewing_delta on commit drop as
select 1::smallint as sign, session_date, device, user_id, watch_seconds, completion_pct
from gold.fact_viewing;

-- The facts of each (date, device, user) after the change: all of them are new.
create temporary table daily_viewing_pairs on commit drop as
select session_date, device, user_id, count(*) as net, count(*) as after
from daily_viewing_delta
group by session_date, device, user_id;

-- mode: incremental
-- counts: read
create temporary table daily_viewing_delta on commit drop as
with taken as (
    delete from ops.fact_viewing_delta where consumer = 'gold.daily_viewing'
    returning sign, session_date, device, user_id, watch_seconds, completion_pct
)
select * from taken;

-- The facts of each (date, device, user) whose number of facts changed, after the change;
-- before it, there were `after - net`.
create temporary table daily_viewing_pairs on commit drop as
with net as (
    select session_date, device, user_id, sum(sign) as net
    from daily_viewing_delta
    group by session_date, device, user_id
    -- a pair whose facts left as many as arrived keeps its viewer either way: no lookup
    having sum(sign) <> 0
)
select
    n.session_date,
    n.device,
    n.user_id,
    n.net,
    (select count(*) from gold.fact_viewing as f
     where f.session_date = n.session_date and f.device = n.device
       and f.user_id = n.user_id) as after
from net as n;

-- mode: all
create temporary table daily_viewing_keys on commit drop as
select distinct session_date from daily_viewing_delta;

analyze daily_viewing_keys;

create temporary table daily_viewing_changes on commit drop as
with

sums as (
    select
        session_date,
        device,
        sum(sign)::bigint as sessions,
        sum(sign * watch_seconds)::bigint as watch_seconds,
        coalesce(sum(sign * completion_pct::numeric), 0) as completion_sum,
        sum(case when completion_pct is not null then sign else 0 end)::bigint as completion_count
    from daily_viewing_delta
    group by session_date, device
),

users as (
    select
        session_date,
        device,
        count(*) filter (where after > 0 and after - net = 0)
          - count(*) filter (where after = 0 and after - net > 0) as unique_users
    from daily_viewing_pairs
    group by session_date, device
),

final as (
    select
        s.session_date,
        s.device,
        s.sessions,
        coalesce(u.unique_users, 0) as unique_users,
        s.watch_seconds,
        s.completion_sum,
        s.completion_count
    from sums as s
    left join users as u on u.session_date = s.session_date and u.device = s.device
)

select * from final;

-- mode: full
insert into gold.daily_viewing_totals (
    session_date, device, sessions, unique_users, watch_seconds, completion_sum,
    completion_count
)
select session_date, device, sessions, unique_users, watch_seconds, trim_scale(completion_sum),
       completion_count
from daily_viewing_changes;

-- mode: incremental
insert into gold.daily_viewing_totals as t (
    session_date, device, sessions, unique_users, watch_seconds, completion_sum,
    completion_count
)
select session_date, device, sessions, unique_users, watch_seconds, trim_scale(completion_sum),
       completion_count
from daily_viewing_changes
on conflict (session_date, device) do update set
    sessions = t.sessions + excluded.sessions,
    unique_users = t.unique_users + excluded.unique_users,
    watch_seconds = t.watch_seconds + excluded.watch_seconds,
    completion_sum = trim_scale(t.completion_sum + excluded.completion_sum),
    completion_count = t.completion_count + excluded.completion_count;

delete from gold.daily_viewing_totals
where sessions = 0 and session_date in (select session_date from daily_viewing_keys);

-- mode: all
create temporary view daily_viewing_rows as
with

totals as (
    select * from gold.daily_viewing_totals
    where session_date in (select session_date from daily_viewing_keys)
),

final as (
    select
        session_date,
        device,
        sessions,
        unique_users,
        (watch_seconds / 3600.0)::double precision as total_watch_hours,
        (completion_sum / nullif(completion_count, 0))::double precision as avg_completion_pct
    from totals
)

select * from final;

-- mode: full
insert into gold.daily_viewing (
    session_date, device, sessions, unique_users, total_watch_hours, avg_completion_pct
)
select * from daily_viewing_rows;

-- mode: incremental
create temporary table daily_viewing_new on commit drop as
select * from daily_viewing_rows;

-- counts: changed
select ops.merge_keyed('gold.daily_viewing', 'daily_viewing_new', 'daily_viewing_keys',
                       'session_date', 'daily_viewing_changed');
