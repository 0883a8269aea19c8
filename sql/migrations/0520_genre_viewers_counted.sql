-- gold.genre_viewers counted (issue 13): each (genre, user) pair carries the user's number of
-- sessions of the genre's contents, so that an incremental run adds and subtracts sessions
-- instead of re-reading every fact of every user a change touches. A content whose genres
-- change moves its viewers' sessions from the genres it lost to those it gained; what it
-- had is kept in gold.genre_viewers_content (the content genres gold.genre_viewers counts).
-- Both are built by sql/gold/genre_performance.sql; its checksum changed with this delta, so
-- its next run is a full refresh that fills the counts.
alter table gold.genre_viewers
    add column if not exists sessions bigint not null default 0;

create table if not exists gold.genre_viewers_content (
    content_id text collate "C" not null,
    genre      text collate "C" not null,
    primary key (content_id, genre)
);
alter table gold.genre_viewers alter column sessions drop default;

-- The net change of each (content, viewer) pair's sessions that gold.content_performance saw
-- in ops.fact_viewing_delta, handed on to gold.genre_performance, which adds it to the
-- pair's genres and deletes what it took in its own transaction (a failed run finds its
-- rows intact; a second handoff before it adds up).
create table if not exists ops.genre_viewers_delta (
    content_id text collate "C" not null,
    user_id    text collate "C" not null,
    sessions   bigint not null,
    primary key (content_id, user_id)
);

-- genre_viewers is no longer looked up by user (an incremental run adds the pairs' changes),
-- and its counts are updated in place: room on each page keeps those updates HOT (no index
-- entry per update).
drop index if exists gold.genre_viewers_user_idx;
alter table gold.genre_viewers set (fillfactor = 90);
