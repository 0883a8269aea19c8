-- gold.genre_performance: one row per genre of silver.content_genres; a session counts for
-- every genre of its content.
-- depends_on: silver.content_genres, gold.fact_viewing
truncate gold.genre_performance;

insert into gold.genre_performance (
    genre, titles, views, unique_viewers, total_watch_hours, avg_completion_pct
)
with

genres as (
    select content_id, genre from silver.content_genres
),

views as (
    select content_id, user_id, watch_seconds, completion_pct from gold.fact_viewing
),

titles as (
    select genre, count(distinct content_id) as titles
    from genres
    group by genre
),

genre_views as (
    select
        g.genre,
        count(*) as views,
        count(distinct v.user_id) as unique_viewers,
        sum(v.watch_seconds) as watch_seconds,
        avg(v.completion_pct) as avg_completion_pct
    from genres as g
    join views as v on v.content_id = g.content_id
    group by g.genre
),

final as (
    select
        t.genre,
        t.titles,
        coalesce(v.views, 0) as views,
        coalesce(v.unique_viewers, 0) as unique_viewers,
        coalesce(v.watch_seconds / 3600.0, 0)::double precision as total_watch_hours,
        v.avg_completion_pct
    from titles as t
    left join genre_views as v on v.genre = t.genre
)

select * from final;
