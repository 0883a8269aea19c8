-- gold.fact_viewing: one row per silver session, with the user's and the content's attributes.
--
-- One definition (the view fact_viewing_rows) over a scope of sessions: every session for a
-- full refresh; for an incremental run (etl/sql_runner.py, `-- mode:` sections) the sessions
-- silver.viewing_sessions queued, and the sessions of the users and contents that
-- silver.users and silver.content queued. Only rows that differ are replaced; the old and
-- new users of every changed row are queued for the per-user aggregates, and the changed
-- rows themselves, signed, left in ops.fact_viewing_delta for the additive ones.
-- depends_on: silver.viewing_sessions, silver.users, silver.content, silver.content_genres
-- mode: full
delete from ops.model_queue where model = 'gold.fact_viewing';

create temporary view fact_viewing_scope as
select * from silver.viewing_sessions;

-- mode: incremental
create temporary table fact_viewing_queue on commit drop as
with taken as (
    delete from ops.model_queue where model = 'gold.fact_viewing' returning kind, key
)
select kind, key from taken;

-- counts: read
create temporary table fact_viewing_keys on commit drop as
select key as session_id from fact_viewing_queue where kind = 'session'
union
select s.session_id from silver.viewing_sessions as s
where s.user_id in (select key from fact_viewing_queue where kind = 'user')
union
select s.session_id from silver.viewing_sessions as s
where s.content_id in (select key from fact_viewing_queue where kind = 'content');

analyze fact_viewing_keys;

create temporary view fact_viewing_scope as
select * from silver.viewing_sessions
where session_id in (select session_id from fact_viewing_keys);

-- mode: all
create temporary view fact_viewing_rows as
with

sessions as (
    select * from fact_viewing_scope
),

users as (
    select user_id, country, subscription_tier from silver.users
),

contents as (
    select content_id, title, content_type from silver.content
),

primary_genres as (
    select content_id, genre from silver.content_genres where ordinal = 1
),

final as (
    select
        s.session_id,
        s.user_id,
        s.content_id,
        s.started_at,
        (s.started_at at time zone 'UTC')::date as session_date,
        s.device,
        s.watch_seconds,
        s.completion_pct,
        s.completion_pct >= 90 as is_completed,
        u.country,
        u.subscription_tier,
        c.title as content_title,
        c.content_type,
        g.genre as primary_genre
    from sessions as s
    join users as u on u.user_id = s.user_id
    join contents as c on c.content_id = s.content_id
    left join primary_genres as g on g.content_id = s.content_id
)

select * from final;

-- mode: full
truncate gold.fact_viewing;

-- The months present, each in a partition of its own (migration 0510), and no partition
-- left for a month that is gone. The runner has dropped the indexes (those of every
-- partition with them) and rebuilds them after the load.
create temporary table fact_viewing_months on commit drop as
select distinct date_trunc('month', started_at at time zone 'UTC')::date as month_start
from fact_viewing_scope;

select gold.drop_fact_viewing_partitions_except(array(select month_start from fact_viewing_months));

select gold.add_fact_viewing_partitions(array(select month_start from fact_viewing_months));

insert into gold.fact_viewing (
    session_id, user_id, content_id, started_at, session_date, device, watch_seconds,
    completion_pct, is_completed, country, subscription_tier, content_title, content_type,
    primary_genre
)
select * from fact_viewing_rows;

-- mode: incremental
create temporary table fact_viewing_new on commit drop as
select * from fact_viewing_rows;

-- A fact of a month that has no partition yet gets one before it is inserted.
select gold.add_fact_viewing_partitions(array(select distinct session_date from fact_viewing_new));

create temporary table fact_viewing_old on commit drop as
select * from gold.fact_viewing where session_id in (select session_id from fact_viewing_keys);

-- ops.merge_keyed, spelled out: the facts to replace are known with their partition key
-- (fact_viewing_old), so each is deleted by its (session_id, session_date) in its month's
-- partition, instead of looking session_id up again in every partition (twice). The run's
-- rows_changed counts the rows deleted and inserted (a replaced fact counts twice).
create temporary table fact_viewing_changed on commit drop as
select session_id from (select * from fact_viewing_old except all select * from fact_viewing_new) as a
union
select session_id from (select * from fact_viewing_new except all select * from fact_viewing_old) as b;

analyze fact_viewing_changed;

delete from gold.fact_viewing as t
using fact_viewing_old as o
where o.session_id in (select session_id from fact_viewing_changed)
  and t.session_id = o.session_id and t.session_date = o.session_date;

insert into gold.fact_viewing
select * from fact_viewing_new where session_id in (select session_id from fact_viewing_changed);

-- The old and the new user of each fact that arrived, left, or changed what a per-user
-- aggregate reads: its start and watch time for user_engagement, its content for
-- genre_performance (a new completion or title alone touches neither).
insert into ops.model_queue (model, kind, key)
with
pairs as (
    select o.user_id as old_user, n.user_id as new_user,
           o.session_id is null or n.session_id is null
             or (o.user_id, o.started_at, o.watch_seconds)
                is distinct from (n.user_id, n.started_at, n.watch_seconds) as for_engagement,
           o.session_id is null or n.session_id is null
             or (o.user_id, o.content_id) is distinct from (n.user_id, n.content_id) as for_genres
    from (select * from fact_viewing_old
          where session_id in (select session_id from fact_viewing_changed)) as o
    full join (select * from fact_viewing_new
               where session_id in (select session_id from fact_viewing_changed)) as n
        on n.session_id = o.session_id
)
select distinct q.consumer, 'user', q.user_id
from pairs as p
cross join lateral (values
    ('gold.user_engagement', p.old_user, p.for_engagement),
    ('gold.user_engagement', p.new_user, p.for_engagement),
    ('gold.genre_performance', p.old_user, p.for_genres),
    ('gold.genre_performance', p.new_user, p.for_genres)
) as q (consumer, user_id, wanted)
where q.wanted and q.user_id is not null
on conflict do nothing;

-- Each changed fact leaves with its old values (-1) and arrives with its new ones (+1),
-- for the aggregates that add facts up.
insert into ops.fact_viewing_delta (
    consumer, sign, session_id, user_id, content_id, session_date, device, watch_seconds,
    completion_pct, is_completed, country, subscription_tier, started_at
)
with
signed as (
    select -1 as sign, * from fact_viewing_old
    where session_id in (select session_id from fact_viewing_changed)
    union all
    select 1, * from fact_viewing_new
    where session_id in (select session_id from fact_viewing_changed)
)
select c.consumer, s.sign, s.session_id, s.user_id, s.content_id, s.session_date, s.device,
       s.watch_seconds, s.completion_pct, s.is_completed, s.country, s.subscription_tier,
       s.started_at
from signed as s
cross join (values ('gold.content_performance'), ('gold.daily_viewing'),
                   ('gold.daily_segment_viewing'), ('gold.user_daily_viewing')) as c (consumer);
