-- gold.content_performance: one row per silver content, viewed or not; and
-- gold.content_performance_totals, its additive state (views, unique_viewers and the exact
-- sums behind the means and rates, rows only for contents with views), which
-- gold.genre_performance adds up too.
--
-- The totals are maintained by adding signed facts: +1 for a fact that arrives, -1 for
-- one that leaves (a changed fact leaves with its old values and arrives with its new
-- ones). A full refresh adds every fact of gold.fact_viewing once; an incremental run
-- (etl/sql_runner.py, `-- mode:` sections) adds the signed facts gold.fact_viewing left in
-- ops.fact_viewing_delta. A viewer counts for a content when they have at least one fact
-- of it: the viewer pairs a change touches are looked up after it (by index). Every sum is
-- exact (bigint, numeric), so adding and subtracting equals summing at once. The contract
-- columns are derived from the totals once, below, for every content whose totals,
-- title or type may have changed.
-- builds: gold.content_performance_totals
-- depends_on: silver.content, gold.fact_viewing
-- mode: full
delete from ops.model_queue where model = 'gold.content_performance';

delete from ops.fact_viewing_delta where consumer = 'gold.content_performance';

-- gold.genre_performance runs a full refresh after this one: it counts every fact itself.
delete from ops.genre_viewers_delta;

truncate gold.content_performance, gold.content_performance_totals;

-- counts: read
create temporary table content_performance_delta on commit drop as
select 1::smallint as sign, content_id, user_id, watch_seconds, completion_pct, is_completed
from gold.fact_viewing;

-- The facts of each (content, viewer) pair after the change: all of them are new.
create temporary table content_performance_pairs on commit drop as
select content_id, user_id, count(*) as net, count(*) as after
from content_performance_delta
group by content_id, user_id;

create temporary table content_performance_keys on commit drop as
select content_id from silver.content;

-- mode: incremental
-- counts: read
create temporary table content_performance_delta on commit drop as
with taken as (
    delete from ops.fact_viewing_delta where consumer = 'gold.content_performance'
    returning sign, content_id, user_id, watch_seconds, completion_pct, is_completed
)
select * from taken;

-- The facts of each (content, viewer) pair whose number of facts changed, after the
-- change; before it, there were `after - net`.
create temporary table content_performance_pairs on commit drop as
with net as (
    select content_id, user_id, sum(sign) as net
    from content_performance_delta
    group by content_id, user_id
    -- a pair whose facts left as many as arrived keeps its viewer either way: no lookup
    having sum(sign) <> 0
)
select
    n.content_id,
    n.user_id,
    n.net,
    (select count(*) from gold.fact_viewing as f
     where f.content_id = n.content_id and f.user_id = n.user_id) as after
from net as n;

-- gold.genre_performance adds each touched pair's net change to the pair's genres.
insert into ops.genre_viewers_delta as t (content_id, user_id, sessions)
select content_id, user_id, net from content_performance_pairs
on conflict (content_id, user_id) do update set sessions = t.sessions + excluded.sessions;

create temporary table content_performance_keys on commit drop as
with taken as (
    delete from ops.model_queue where model = 'gold.content_performance' returning key
)
select key as content_id from taken
union
select content_id from content_performance_delta;

-- mode: all
analyze content_performance_keys;

create temporary table content_performance_changes on commit drop as
with

sums as (
    select
        content_id,
        sum(sign)::bigint as views,
        sum(sign * watch_seconds)::bigint as watch_seconds,
        coalesce(sum(sign * completion_pct::numeric), 0) as completion_sum,
        sum(case when completion_pct is not null then sign else 0 end)::bigint as completion_count,
        sum(case when is_completed then sign else 0 end)::bigint as completed_count
    from content_performance_delta
    group by content_id
),

viewers as (
    select
        content_id,
        count(*) filter (where after > 0 and after - net = 0)
          - count(*) filter (where after = 0 and after - net > 0) as unique_viewers
    from content_performance_pairs
    group by content_id
),

final as (
    select
        s.content_id,
        s.views,
        coalesce(v.unique_viewers, 0) as unique_viewers,
        s.watch_seconds,
        s.completion_sum,
        s.completion_count,
        s.completed_count
    from sums as s
    left join viewers as v on v.content_id = s.content_id
)

select * from final;

-- mode: full
insert into gold.content_performance_totals (
    content_id, views, unique_viewers, watch_seconds, completion_sum, completion_count,
    completed_count
)
select content_id, views, unique_viewers, watch_seconds, trim_scale(completion_sum),
       completion_count, completed_count
from content_performance_changes;

-- mode: incremental
insert into gold.content_performance_totals as t (
    content_id, views, unique_viewers, watch_seconds, completion_sum, completion_count,
    completed_count
)
select content_id, views, unique_viewers, watch_seconds, trim_scale(completion_sum),
       completion_count, completed_count
from content_performance_changes
on conflict (content_id) do update set
    views = t.views + excluded.views,
    unique_viewers = t.unique_viewers + excluded.unique_viewers,
    watch_seconds = t.watch_seconds + excluded.watch_seconds,
    completion_sum = trim_scale(t.completion_sum + excluded.completion_sum),
    completion_count = t.completion_count + excluded.completion_count,
    completed_count = t.completed_count + excluded.completed_count;

delete from gold.content_performance_totals
where views = 0 and content_id in (select content_id from content_performance_changes);

-- mode: all
create temporary view content_performance_rows as
with

contents as (
    select content_id, title, content_type from silver.content
    where content_id in (select content_id from content_performance_keys)
),

totals as (
    select * from gold.content_performance_totals
),

final as (
    select
        c.content_id,
        c.title,
        c.content_type,
        coalesce(t.views, 0) as views,
        coalesce(t.unique_viewers, 0) as unique_viewers,
        coalesce(t.watch_seconds / 3600.0, 0)::double precision as total_watch_hours,
        (t.completion_sum / nullif(t.completion_count, 0))::double precision as avg_completion_pct,
        (100.0 * t.completed_count / nullif(t.completion_count, 0))::double precision
            as completion_rate_pct
    from contents as c
    left join totals as t on t.content_id = c.content_id
)

select * from final;

-- mode: full
insert into gold.content_performance (
    content_id, title, content_type, views, unique_viewers, total_watch_hours,
    avg_completion_pct, completion_rate_pct
)
select * from content_performance_rows;

-- mode: incremental
create temporary table content_performance_new on commit drop as
select * from content_performance_rows;

-- counts: changed
select ops.merge_keyed('gold.content_performance', 'content_performance_new',
                       'content_performance_keys', 'content_id', 'content_performance_changed');
