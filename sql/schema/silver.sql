-- silver: one clean, current row per key, plus every rejected row with its reason.
-- Lineage columns (ingestion_id, source_file, source_row) point at the bronze row.
-- The tables are filled by the models in sql/silver/; the parsing functions they
-- use are in parsing.sql.
--
-- Keys and grouping columns compare in byte order (COLLATE "C"). With a linguistic
-- default collation (even C.UTF-8 on PostgreSQL 15), every sort, group-by and index
-- build on these text columns goes through strcoll(): on 1M sessions that made
-- count(distinct) and the primary-key builds ~3x slower. Ids and codes have no
-- linguistic order to respect; for UTF-8, byte order is code-point order. Comparing a
-- "C" column with a default-collation one is not a conflict (the non-default one wins).
create schema silver;

create table silver.users (
    user_id           text collate "C" primary key,
    email             text,
    full_name         text,
    country           text collate "C",
    signup_date       date,
    subscription_tier text not null,
    birth_year        integer,
    updated_at        timestamptz,
    ingestion_id      bigint not null,
    source_file       text   not null,
    source_row        bigint not null
);
create index users_country_idx on silver.users (country);

create table silver.users_rejected (
    user_id      text collate "C",
    reason       text   not null,
    ingestion_id bigint not null,
    source_file  text   not null,
    source_row   bigint not null,
    raw_record   jsonb  not null
);
create index users_rejected_reason_idx on silver.users_rejected (reason);

create table silver.content (
    content_id      text collate "C" primary key,
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

create table silver.content_genres (
    content_id text collate "C" not null,
    genre      text collate "C" not null,
    ordinal    integer not null,
    primary key (content_id, ordinal),
    unique (content_id, genre)
);
create index content_genres_genre_idx on silver.content_genres (genre);

create table silver.content_cast (
    content_id text collate "C" not null,
    ordinal    integer not null,
    name       text,
    role       text,
    primary key (content_id, ordinal)
);

create table silver.content_rejected (
    content_id   text collate "C",
    reason       text   not null,
    ingestion_id bigint not null,
    source_file  text   not null,
    source_row   bigint not null,
    raw_record   jsonb  not null
);
create index content_rejected_reason_idx on silver.content_rejected (reason);

create table silver.viewing_sessions (
    session_id     text collate "C" primary key,
    user_id        text collate "C" not null,
    content_id     text collate "C" not null,
    started_at     timestamptz not null,
    ended_at       timestamptz,
    watch_seconds  bigint not null,
    device         text collate "C" not null,
    completion_pct double precision,
    ingestion_id   bigint not null,
    source_file    text   not null,
    source_row     bigint not null
);
create index viewing_sessions_user_idx on silver.viewing_sessions (user_id);
create index viewing_sessions_content_idx on silver.viewing_sessions (content_id);

create table silver.viewing_sessions_rejected (
    session_id   text collate "C",
    reason       text   not null,
    ingestion_id bigint not null,
    source_file  text   not null,
    source_row   bigint not null,
    raw_record   jsonb  not null
);
create index viewing_sessions_rejected_reason_idx on silver.viewing_sessions_rejected (reason);
