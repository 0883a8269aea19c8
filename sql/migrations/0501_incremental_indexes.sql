-- Incremental transforms (issue 13): find the bronze versions of a key, the rejected
-- sessions that wait for a user or a content, and a user's facts, by index.
-- The bronze expression indexes are the price of re-reading only the keys that changed:
-- each COPY into bronze maintains them (see bench/ingest.py for the load cost).
create index if not exists users_key_idx on bronze.users (silver.trim_ascii(user_id));
create index if not exists viewing_sessions_key_idx
    on bronze.viewing_sessions (silver.trim_ascii(session_id));
create index if not exists content_key_idx on bronze.content (silver.content_key(doc));

create index if not exists viewing_sessions_rejected_session_idx
    on silver.viewing_sessions_rejected (session_id);
create index if not exists viewing_sessions_rejected_orphan_user_idx
    on silver.viewing_sessions_rejected (silver.trim_ascii(raw_record ->> 'user_id'))
    where reason = 'orphan_user';
create index if not exists viewing_sessions_rejected_orphan_content_idx
    on silver.viewing_sessions_rejected (silver.trim_ascii(raw_record ->> 'content_id'))
    where reason = 'orphan_content';

create index if not exists fact_viewing_user_idx on gold.fact_viewing (user_id);

-- The exact watch seconds behind total_watch_hours, so that the totals of country_insights
-- and kpi_summary are sums of these rows and not a rescan of the facts.
-- A companion table (built by sql/gold/user_engagement.sql), so that the contract's table
-- keeps exactly its columns (gold.content_performance_totals: 0502).
create table if not exists gold.user_engagement_totals (
    user_id       text collate "C" primary key,
    watch_seconds bigint not null
);

-- Which users watched something of a genre: unique_viewers of gold.genre_performance is a
-- count of these rows (built by sql/gold/genre_performance.sql).
create table if not exists gold.genre_viewers (
    genre   text collate "C" not null,
    user_id text collate "C" not null,
    primary key (genre, user_id)
);
create index if not exists genre_viewers_user_idx on gold.genre_viewers (user_id);
