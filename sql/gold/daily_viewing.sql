-- gold.daily_viewing: one row per (session_date, device) having sessions.
--
-- One definition (the view daily_viewing_rows) over a scope of dates: all of them for a full
-- refresh; for an incremental run (etl/sql_runner.py, `-- mode:` sections) the dates
-- gold.fact_viewing queued (old and new date of a changed fact). Only dates whose rows
-- differ are replaced.
-- depends_on: gold.fact_viewing
-- mode: full
delete from ops.model_queue where model = 'gold.daily_viewing';

create temporary view daily_viewing_views as
select session_date, device, user_id, watch_seconds, completion_pct from gold.fact_viewing;

-- mode: incremental
-- counts: read
create temporary table daily_viewing_keys on commit drop as
with taken as (
    delete from ops.model_queue where model = 'gold.daily_viewing' returning key
)
select key::date as session_date from taken;

analyze daily_viewing_keys;

create temporary view daily_viewing_views as
select session_date, device, user_id, watch_seconds, completion_pct from gold.fact_viewing
where session_date in (select session_date from daily_viewing_keys);

-- mode: all
create temporary view daily_viewing_rows as
with

views as (
    select * from daily_viewing_views
),

-- Per user first, then per (date, device): two hash aggregates instead of a sort for
-- count(distinct user_id). Every sum is exact (bigint, numeric).
per_user as (
    select
        session_date,
        device,
        user_id,
        count(*) as sessions,
        sum(watch_seconds) as watch_seconds,
        sum(completion_pct::numeric) as completion_sum,
        count(completion_pct) as completion_count
    from views
    group by session_date, device, user_id
),

final as (
    select
        session_date,
        device,
        sum(sessions)::bigint as sessions,
        count(*) as unique_users,
        (sum(watch_seconds) / 3600.0)::double precision as total_watch_hours,
        (sum(completion_sum) / nullif(sum(completion_count), 0))::double precision
            as avg_completion_pct
    from per_user
    group by session_date, device
)

select * from final;

-- mode: full
truncate gold.daily_viewing;

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
