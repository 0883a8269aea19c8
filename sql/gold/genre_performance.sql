-- gold.genre_performance: one row per genre of silver.content_genres; a session counts for
-- every genre of its content. Measures are the sums of gold.content_performance_totals over
-- the genre's contents; unique_viewers counts gold.genre_viewers, the (genre, user) pairs
-- with at least one session, each with the user's number of sessions of the genre's
-- contents. gold.genre_viewers_content holds the content genres those counts follow.
--
-- A full refresh counts every fact. An incremental run (etl/sql_runner.py, `-- mode:`
-- sections) adds changes, so that its cost follows the facts that changed and not every
-- fact of every user they touch: the net change of each (content, viewer) pair, handed on
-- by gold.content_performance in ops.genre_viewers_delta, goes to the genres the content had;
-- then a content whose genres changed (silver.content queued it) moves its viewers' sessions
-- (counted by index on gold.fact_viewing) from the genres it lost to those it gained. A pair
-- left without sessions is deleted. genre_performance itself is small and always
-- recomputed from those two; only rows that differ are replaced.
-- depends_on: silver.content_genres, gold.fact_viewing, gold.content_performance_totals
-- builds: gold.genre_viewers, gold.genre_viewers_content
-- mode: full
delete from ops.model_queue where model = 'gold.genre_performance';

delete from ops.genre_viewers_delta;

truncate gold.genre_viewers, gold.genre_viewers_content, gold.genre_performance;

insert into gold.genre_viewers_content (content_id, genre)
select distinct content_id, genre from silver.content_genres;

analyze gold.genre_viewers_content;

insert into gold.genre_viewers (genre, user_id, sessions)
with

genres as (
    select content_id, genre from gold.genre_viewers_content
),

views as (
    select content_id, user_id from gold.fact_viewing
),

final as (
    select g.genre, v.user_id, count(*) as sessions
    from views as v
    join genres as g on g.content_id = v.content_id
    group by g.genre, v.user_id
)

select * from final;

-- mode: incremental
-- The queued users (gold.fact_viewing queues them) are covered by the pairs' changes.
create temporary table genre_viewers_queue on commit drop as
with taken as (
    delete from ops.model_queue where model = 'gold.genre_performance' returning kind, key
)
select kind, key from taken;

-- counts: read
create temporary table genre_viewers_pairs on commit drop as
with taken as (
    delete from ops.genre_viewers_delta returning content_id, user_id, sessions
)
select content_id, user_id, sessions from taken where sessions <> 0;

analyze genre_viewers_pairs;

-- The genres a queued content lost (-1) and gained (+1) since gold.genre_viewers counted it.
create temporary table genre_viewers_moves on commit drop as
with
contents as (
    select key as content_id from genre_viewers_queue where kind = 'content'
),
counted as (
    select content_id, genre from gold.genre_viewers_content
    where content_id in (select content_id from contents)
),
current as (
    select distinct content_id, genre from silver.content_genres
    where content_id in (select content_id from contents)
)
select content_id, genre, -1 as sign from (select * from counted except select * from current) as lost
union all
select content_id, genre, 1 from (select * from current except select * from counted) as gained;

analyze genre_viewers_moves;

-- Each pair's net change under the genres its content had (the counted ones), then the
-- sessions a content with new genres moves: its viewers' sessions now (after the pairs'
-- changes) leave the genres it lost and arrive in those it gained.
-- counts: read
create temporary table genre_viewers_changes on commit drop as
with
counted as (
    select content_id, genre from gold.genre_viewers_content
),
by_pairs as (
    select g.genre, p.user_id, p.sessions
    from genre_viewers_pairs as p
    join counted as g on g.content_id = p.content_id
),
viewers as (
    select f.content_id, f.user_id, count(*) as sessions
    from gold.fact_viewing as f
    where f.content_id in (select distinct content_id from genre_viewers_moves)
    group by f.content_id, f.user_id
),
by_moves as (
    select m.genre, v.user_id, m.sign * v.sessions as sessions
    from genre_viewers_moves as m
    join viewers as v on v.content_id = m.content_id
),
changes as (
    select * from by_pairs
    union all
    select * from by_moves
)
select genre, user_id, sum(sessions)::bigint as sessions
from changes
group by genre, user_id
having sum(sessions) <> 0;

analyze genre_viewers_changes;

delete from gold.genre_viewers_content as t
using genre_viewers_moves as m
where m.sign = -1 and t.content_id = m.content_id and t.genre = m.genre;

insert into gold.genre_viewers_content (content_id, genre)
select content_id, genre from genre_viewers_moves where sign = 1;

-- One pass: a pair left without sessions is deleted, another updated, a new one inserted.
merge into gold.genre_viewers as t
using genre_viewers_changes as c
on t.genre = c.genre and t.user_id = c.user_id
when matched and t.sessions + c.sessions = 0 then
    delete
when matched then
    update set sessions = t.sessions + c.sessions
when not matched then
    insert (genre, user_id, sessions) values (c.genre, c.user_id, c.sessions);

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
