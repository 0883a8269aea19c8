-- gold.fact_viewing: one row per silver session, with the user's and the content's attributes.
-- depends_on: silver.viewing_sessions, silver.users, silver.content, silver.content_genres
truncate gold.fact_viewing;

insert into gold.fact_viewing (
    session_id, user_id, content_id, started_at, session_date, device, watch_seconds,
    completion_pct, is_completed, country, subscription_tier, content_title, content_type,
    primary_genre
)
with

sessions as (
    select * from silver.viewing_sessions
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
