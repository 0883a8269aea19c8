-- gold.genre_performance: one row per genre of silver.content_genres; a session counts for
-- every genre of its content. Measures are the sums of gold.content_performance_totals over
-- the genre's contents; unique_viewers counts gold.genre_viewers, the (genre, user) pairs with
-- at least one session.
--
-- genre_viewers has one definition (the view genre_viewers_rows) over a scope of users: all
-- of them for a full refresh; for an incremental run (etl/sql_runner.py, `-- mode:`
-- sections) the users gold.fact_viewing queued (old and new user of a changed fact) and the
-- viewers of the contents silver.content queued (their genres changed). genre_performance
-- itself is small and always recomputed from those two; only rows that differ are replaced.
-- depends_on: silver.content_genres, gold.fact_viewing, gold.content_performance_totals
-- builds: gold.genre_viewers
-- mode: full
delete from ops.model_queue where model = 'gold.genre_performance';

create temporary view genre_viewers_views as
select content_id, user_id from gold.fact_viewing;

-- mode: incremental
create temporary table genre_viewers_queue on commit drop as
with taken as (
    delete from ops.model_queue where model = 'gold.genre_performance' returning kind, key
)
select kind, key from taken;

-- counts: read
create temporary table genre_viewers_keys on commit drop as
select key as user_id from genre_viewers_queue where kind = 'user'
union
select f.user_id from gold.fact_viewing as f
where f.content_id in (select key from genre_viewers_queue where kind = 'content');

analyze genre_viewers_keys;

create temporary view genre_viewers_views as
select content_id, user_id from gold.fact_viewing
where user_id in (select user_id from genre_viewers_keys);

-- mode: all
create temporary view genre_viewers_rows as
with

genres as (
    select content_id, genre from silver.content_genres
),

views as (
    select * from genre_viewers_views
),

final as (
    select distinct g.genre, v.user_id
    from views as v
    join genres as g on g.content_id = v.content_id
)

select * from final;

-- mode: full
truncate gold.genre_viewers, gold.genre_performance;

insert into gold.genre_viewers (genre, user_id)
select * from genre_viewers_rows;

-- mode: incremental
create temporary table genre_viewers_new on commit drop as
select * from genre_viewers_rows;

select ops.merge_keyed('gold.genre_viewers', 'genre_viewers_new', 'genre_viewers_keys',
                       'user_id', 'genre_viewers_changed');

-- mode: all
create temporary table genre_performance_new on commit drop as
with

genres as (
    select content_id, genre from silver.content_genres
),

per_content as (
    select content_id, views, watch_seconds, completion_sum, completion_count
    from gold.content_performance_totals
),

genre_viewers as (
    select genre, count(*) as unique_viewers from gold.genre_viewers group by genre
),

genre_totals as (
    select
        g.genre,
        count(*) as titles,
        coalesce(sum(p.views), 0) as views,
        coalesce(sum(p.watch_seconds), 0) as watch_seconds,
        sum(p.completion_sum) / nullif(sum(p.completion_count), 0) as avg_completion_pct
    from genres as g
    left join per_content as p on p.content_id = g.content_id
    group by g.genre
),

final as (
    select
        t.genre,
        t.titles,
        t.views::bigint as views,
        coalesce(v.unique_viewers, 0) as unique_viewers,
        (t.watch_seconds / 3600.0)::double precision as total_watch_hours,
        t.avg_completion_pct::double precision as avg_completion_pct
    from genre_totals as t
    left join genre_viewers as v on v.genre = t.genre
)

select * from final;

-- Write only what differs (a run with nothing new changes nothing).
delete from gold.genre_performance as t
where t.genre in (
    select genre from (select * from gold.genre_performance
                       except all select * from genre_performance_new) as gone);

insert into gold.genre_performance
select * from genre_performance_new
except all
select * from gold.genre_performance;
