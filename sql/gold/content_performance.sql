-- gold.content_performance: one row per silver content, viewed or not; and
-- gold.content_performance_totals, its exact sums (watch_seconds, completion_sum,
-- completion_count, completed_count) that gold.genre_performance adds up. Means are summed in numeric, so they do not depend on the
-- order rows arrive in (bit-identical reruns).
--
-- One definition (the view content_performance_rows) over a scope of contents: all of them
-- for a full refresh; for an incremental run (etl/sql_runner.py, `-- mode:` sections) the
-- contents queued by silver.content and by gold.fact_viewing (old and new content of a
-- changed fact). Only rows that differ are replaced.
-- builds: gold.content_performance_totals
-- depends_on: silver.content, gold.fact_viewing
-- mode: full
delete from ops.model_queue where model = 'gold.content_performance';

-- The aggregate reads all of fact_viewing: one sequential scan and one sort beat walking the
-- content_id index, whose random heap reads the planner underprices here (2M sessions:
-- 4.6 s against 8.5 s). Local to this model's transaction.
set local enable_indexscan = off;

create temporary view content_performance_contents as
select content_id, title, content_type from silver.content;

create temporary view content_performance_views as
select content_id, user_id, watch_seconds, completion_pct, is_completed from gold.fact_viewing;

-- mode: incremental
-- counts: read
create temporary table content_performance_keys on commit drop as
with taken as (
    delete from ops.model_queue where model = 'gold.content_performance' returning key
)
select key as content_id from taken;

analyze content_performance_keys;

create temporary view content_performance_contents as
select content_id, title, content_type from silver.content
where content_id in (select content_id from content_performance_keys);

create temporary view content_performance_views as
select content_id, user_id, watch_seconds, completion_pct, is_completed from gold.fact_viewing
where content_id in (select content_id from content_performance_keys);

-- mode: all
create temporary view content_performance_rows as
with

contents as (
    select * from content_performance_contents
),

views as (
    select * from content_performance_views
),

-- Per viewer first, then per content: two hash aggregates instead of a sort for
-- count(distinct user_id). Every sum is exact (bigint, numeric).
per_viewer as (
    select
        content_id,
        user_id,
        count(*) as views,
        sum(watch_seconds) as watch_seconds,
        sum(completion_pct::numeric) as completion_sum,
        count(*) filter (where is_completed) as completed,
        count(completion_pct) as with_completion
    from views
    group by content_id, user_id
),

per_content as (
    select
        content_id,
        sum(views)::bigint as views,
        count(*) as unique_viewers,
        sum(watch_seconds) as watch_seconds,
        sum(completion_sum) as completion_sum,
        sum(completed)::bigint as completed,
        sum(with_completion)::bigint as with_completion
    from per_viewer
    group by content_id
),

final as (
    select
        c.content_id,
        c.title,
        c.content_type,
        coalesce(p.views, 0) as views,
        coalesce(p.unique_viewers, 0) as unique_viewers,
        coalesce(p.watch_seconds / 3600.0, 0)::double precision as total_watch_hours,
        (p.completion_sum / nullif(p.with_completion, 0))::double precision as avg_completion_pct,
        (100.0 * p.completed / nullif(p.with_completion, 0))::double precision as completion_rate_pct,
        coalesce(p.watch_seconds, 0)::bigint as watch_seconds,
        p.completion_sum,
        coalesce(p.with_completion, 0) as completion_count,
        coalesce(p.completed, 0) as completed_count
    from contents as c
    left join per_content as p on p.content_id = c.content_id
)

select * from final;

-- mode: all
create temporary table content_performance_computed on commit drop as
select * from content_performance_rows;

create temporary table content_performance_new on commit drop as
select content_id, title, content_type, views, unique_viewers, total_watch_hours,
       avg_completion_pct, completion_rate_pct
from content_performance_computed;

create temporary table content_performance_totals_new on commit drop as
select content_id, watch_seconds, completion_sum, completion_count, completed_count
from content_performance_computed;

-- mode: full
truncate gold.content_performance, gold.content_performance_totals;

insert into gold.content_performance (
    content_id, title, content_type, views, unique_viewers, total_watch_hours,
    avg_completion_pct, completion_rate_pct
)
select * from content_performance_new;

insert into gold.content_performance_totals (
    content_id, watch_seconds, completion_sum, completion_count, completed_count
)
select * from content_performance_totals_new;

-- mode: incremental
-- counts: changed
select ops.merge_keyed('gold.content_performance', 'content_performance_new',
                       'content_performance_keys', 'content_id', 'content_performance_changed');

select ops.merge_keyed('gold.content_performance_totals', 'content_performance_totals_new',
                       'content_performance_keys', 'content_id', 'content_performance_totals_changed');
