-- gold.genre_performance: one row per genre of silver.content_genres; a session counts for
-- every genre of its content. Measures are summed per content first (50k rows, not the
-- sessions times genres), distinct viewers by genre.
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

per_content as (
    select
        content_id,
        count(*) as views,
        sum(watch_seconds) as watch_seconds,
        sum(completion_pct::numeric) as completion_sum,
        count(completion_pct) as with_completion
    from views
    group by content_id
),

genre_viewers as (
    select g.genre, count(distinct v.user_id) as unique_viewers
    from genres as g
    join views as v on v.content_id = g.content_id
    group by g.genre
),

genre_totals as (
    select
        g.genre,
        count(*) as titles,
        coalesce(sum(p.views), 0) as views,
        coalesce(sum(p.watch_seconds), 0) as watch_seconds,
        sum(p.completion_sum) / nullif(sum(p.with_completion), 0) as avg_completion_pct
    from genres as g
    left join per_content as p on p.content_id = g.content_id
    group by g.genre
),

final as (
    select
        t.genre,
        t.titles,
        t.views,
        coalesce(v.unique_viewers, 0) as unique_viewers,
        (t.watch_seconds / 3600.0)::double precision as total_watch_hours,
        t.avg_completion_pct::double precision as avg_completion_pct
    from genre_totals as t
    left join genre_viewers as v on v.genre = t.genre
)

select * from final;
