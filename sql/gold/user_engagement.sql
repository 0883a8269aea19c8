-- gold.user_engagement: one row per silver user, with a segment by total watch hours; and
-- gold.user_engagement_totals, its exact watch_seconds, which gold.country_insights and
-- gold.kpi_summary add up. Reads no completion: a fact whose completion alone changed
-- (a content's new duration) does not touch its user.
--
-- The measures add up the user's rows of gold.user_daily_viewing (one per day and device
-- with sessions: their sessions, watch seconds, first and last start), not the facts: fewer
-- rows, and a user's rows lie together (that model writes them in user order), so a user
-- costs a page or two instead of one page per fact.
--
-- One definition (the view user_engagement_rows) over a scope of users: all of them for a
-- full refresh; for an incremental run (etl/sql_runner.py, `-- mode:` sections) the users
-- queued by silver.users (new, or a new country or tier) and by gold.fact_viewing (old and
-- new user of a fact whose user, start or watch time changed). Only rows that differ are
-- replaced.
-- builds: gold.user_engagement_totals
-- depends_on: silver.users, gold.user_daily_viewing
-- mode: full
delete from ops.model_queue where model = 'gold.user_engagement';

create temporary view user_engagement_users as
select user_id, country, subscription_tier from silver.users;

create temporary view user_engagement_days as
select user_id, session_date, sessions, watch_seconds, first_started_at, last_started_at
from gold.user_daily_viewing;

-- mode: incremental
-- counts: read
create temporary table user_engagement_keys on commit drop as
with taken as (
    delete from ops.model_queue where model = 'gold.user_engagement' returning key
)
select key as user_id from taken;

analyze user_engagement_keys;

create temporary view user_engagement_users as
select user_id, country, subscription_tier from silver.users
where user_id in (select user_id from user_engagement_keys);

-- (user_daily_viewing's user_id has the database's collation: compare in it, by its index)
create temporary view user_engagement_days as
select user_id, session_date, sessions, watch_seconds, first_started_at, last_started_at
from gold.user_daily_viewing
where user_id in (select user_id collate "default" from user_engagement_keys);

-- mode: all
create temporary view user_engagement_rows as
with

users as (
    select * from user_engagement_users
),

days as (
    select * from user_engagement_days
),

-- Per day first (a day's devices), then per user: two hash aggregates instead of a sort
-- for count(distinct session_date). Every sum is exact (bigint, numeric).
per_day as (
    select
        user_id collate "C" as user_id,
        session_date,
        sum(sessions) as sessions,
        sum(watch_seconds) as watch_seconds,
        min(first_started_at) as first_session_at,
        max(last_started_at) as last_session_at
    from days
    group by 1, session_date
),

per_user as (
    select
        user_id,
        sum(sessions)::bigint as sessions,
        sum(watch_seconds) as watch_seconds,
        count(*) as active_days,
        min(first_session_at) as first_session_at,
        max(last_session_at) as last_session_at,
        sum(watch_seconds) / sum(sessions) / 60.0 as avg_session_minutes
    from per_day
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
        p.avg_session_minutes,
        coalesce(p.watch_seconds, 0) as watch_seconds
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
        end as segment,
        watch_seconds::bigint as watch_seconds
    from measured
)

select * from final;

-- mode: all
create temporary table user_engagement_computed on commit drop as
select * from user_engagement_rows;

create temporary table user_engagement_new on commit drop as
select user_id, country, subscription_tier, sessions, total_watch_hours, active_days,
       first_session_at, last_session_at, avg_session_minutes, segment
from user_engagement_computed;

create temporary table user_engagement_totals_new on commit drop as
select user_id, watch_seconds
from user_engagement_computed;

-- mode: full
truncate gold.user_engagement, gold.user_engagement_totals;

insert into gold.user_engagement (
    user_id, country, subscription_tier, sessions, total_watch_hours, active_days,
    first_session_at, last_session_at, avg_session_minutes, segment
)
select * from user_engagement_new;

insert into gold.user_engagement_totals (
    user_id, watch_seconds
)
select * from user_engagement_totals_new;

-- mode: incremental
-- counts: changed
select ops.merge_keyed('gold.user_engagement', 'user_engagement_new',
                       'user_engagement_keys', 'user_id', 'user_engagement_changed');

select ops.merge_keyed('gold.user_engagement_totals', 'user_engagement_totals_new',
                       'user_engagement_keys', 'user_id', 'user_engagement_totals_changed');
