-- gold.user_daily_viewing: one row per (user_id, session_date, device) having sessions, with
-- the user's country ('unknown' when none, as gold.country_insights) and tier. Exact distinct
-- users under any filter are count(distinct user_id) over the rows it selects; active users
-- in the 720-hour window are those with a selected row whose last_started_at is after
-- gold.active_window_start(as_of), as_of being max(last_started_at) over the whole table.
--
-- One definition (the view user_daily_viewing_rows) over a scope of facts: every fact for a
-- full refresh; for an incremental run (etl/sql_runner.py, `-- mode:` sections) the facts of
-- the (user, date, device) groups that the signed changes gold.fact_viewing left in
-- ops.fact_viewing_delta touch, old versions and new (looked up by the index on
-- gold.fact_viewing (session_date, device, user_id)); a change of nothing this model reads
-- (a content's new duration, title or genres) touches no group. Only groups whose row
-- differs are replaced; a touched group without facts left loses its row.
-- depends_on: gold.fact_viewing
-- mode: full
delete from ops.fact_viewing_delta where consumer = 'gold.user_daily_viewing';

truncate gold.user_daily_viewing;

create temporary view user_daily_viewing_scope as
select user_id, session_date, device, country, subscription_tier, started_at, watch_seconds
from gold.fact_viewing;

-- mode: incremental
-- counts: read
create temporary table user_daily_viewing_delta on commit drop as
with taken as (
    delete from ops.fact_viewing_delta where consumer = 'gold.user_daily_viewing'
    returning sign, session_id, user_id, session_date, device, country, subscription_tier,
              started_at, watch_seconds
)
select * from taken;

-- A fact whose change this model does not read (a new completion, title or genre) leaves
-- and arrives with the same values: its -1 and +1 rows cancel and touch no group.
create temporary table user_daily_viewing_keys on commit drop as
with
net as (
    select user_id, session_date, device
    from user_daily_viewing_delta
    group by session_id, user_id, session_date, device, country, subscription_tier,
             started_at, watch_seconds
    having sum(sign) <> 0
)
select distinct user_id, session_date, device from net;

analyze user_daily_viewing_keys;

create temporary view user_daily_viewing_scope as
select f.user_id, f.session_date, f.device, f.country, f.subscription_tier, f.started_at,
       f.watch_seconds
from gold.fact_viewing as f
where (f.session_date, f.device, f.user_id) in (
    select k.session_date, k.device, k.user_id from user_daily_viewing_keys as k);

-- mode: all
create temporary view user_daily_viewing_rows as
with

views as (
    select user_id, session_date, device, country, subscription_tier, started_at, watch_seconds
    from user_daily_viewing_scope
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

-- mode: full
-- In user order, so that a user's rows lie together (gold.user_engagement reads them per user).
insert into gold.user_daily_viewing (
    user_id, session_date, device, country, subscription_tier, sessions, watch_seconds,
    first_started_at, last_started_at
)
select * from user_daily_viewing_rows
order by user_id, session_date, device;

-- mode: incremental
create temporary table user_daily_viewing_new (like gold.user_daily_viewing) on commit drop;

insert into user_daily_viewing_new (
    user_id, session_date, device, country, subscription_tier, sessions, watch_seconds,
    first_started_at, last_started_at
)
select * from user_daily_viewing_rows;

-- The touched groups whose row differs (arrived, left or changed).
create temporary table user_daily_viewing_changed on commit drop as
with old as (
    -- (the table's text columns have the database's collation: compare in it, by its key)
    select t.* from gold.user_daily_viewing as t
    where (t.user_id, t.session_date, t.device) in (
        select k.user_id collate "default", k.session_date, k.device collate "default"
        from user_daily_viewing_keys as k)
)
select user_id, session_date, device from (
    select * from old except all select * from user_daily_viewing_new) as a
union
select user_id, session_date, device from (
    select * from user_daily_viewing_new except all select * from old) as b;

delete from gold.user_daily_viewing as t
using user_daily_viewing_changed as c
where t.user_id = c.user_id and t.session_date = c.session_date and t.device = c.device;

insert into gold.user_daily_viewing
select n.* from user_daily_viewing_new as n
where (n.user_id, n.session_date, n.device) in (
    select c.user_id, c.session_date, c.device from user_daily_viewing_changed as c)
order by n.user_id, n.session_date, n.device;
