-- Silver: one clean, current row per key, plus every rejected row with its reason.
-- Lineage columns (ingestion_id, source_file, source_row) point at the bronze row.
create table if not exists silver.users (
    user_id           text primary key,
    email             text,
    full_name         text,
    country           text,
    signup_date       date,
    subscription_tier text not null,
    birth_year        integer,
    updated_at        timestamptz,
    ingestion_id      bigint not null,
    source_file       text   not null,
    source_row        bigint not null
);
create index if not exists users_country_idx on silver.users (country);

create table if not exists silver.users_rejected (
    user_id      text,
    reason       text   not null,
    ingestion_id bigint not null,
    source_file  text   not null,
    source_row   bigint not null,
    raw_record   jsonb  not null
);

create table if not exists silver.content (
    content_id      text primary key,
    title           text,
    content_type    text not null,
    duration_min    double precision,
    release_year    integer,
    imdb_rating     double precision,
    votes           bigint,
    maturity_rating text,
    updated_at      timestamptz,
    ingestion_id    bigint not null,
    source_file     text   not null,
    source_row      bigint not null
);

create table if not exists silver.content_genres (
    content_id text    not null,
    genre      text    not null,
    ordinal    integer not null,
    primary key (content_id, ordinal),
    unique (content_id, genre)
);
create index if not exists content_genres_genre_idx on silver.content_genres (genre);

create table if not exists silver.content_cast (
    content_id text    not null,
    ordinal    integer not null,
    name       text,
    role       text,
    primary key (content_id, ordinal)
);

create table if not exists silver.content_rejected (
    content_id   text,
    reason       text   not null,
    ingestion_id bigint not null,
    source_file  text   not null,
    source_row   bigint not null,
    raw_record   jsonb  not null
);

create table if not exists silver.viewing_sessions (
    session_id     text primary key,
    user_id        text   not null,
    content_id     text   not null,
    started_at     timestamptz not null,
    ended_at       timestamptz,
    watch_seconds  bigint not null,
    device         text   not null,
    completion_pct double precision,
    ingestion_id   bigint not null,
    source_file    text   not null,
    source_row     bigint not null
);
create index if not exists viewing_sessions_user_idx on silver.viewing_sessions (user_id);
create index if not exists viewing_sessions_content_idx on silver.viewing_sessions (content_id);

create table if not exists silver.viewing_sessions_rejected (
    session_id   text,
    reason       text   not null,
    ingestion_id bigint not null,
    source_file  text   not null,
    source_row   bigint not null,
    raw_record   jsonb  not null
);

create index if not exists users_rejected_reason_idx on silver.users_rejected (reason);
create index if not exists content_rejected_reason_idx on silver.content_rejected (reason);
create index if not exists viewing_sessions_rejected_reason_idx on silver.viewing_sessions_rejected (reason);
