-- bronze: everything that arrived, as it arrived. One text column per required
-- column (values exactly as read), extra columns as jsonb, and the file metadata.
-- ingestion_id refers to ops.ingestion_log; it is indexed but not a declared
-- foreign key, because a per-row RI trigger would halve COPY throughput and the
-- loader writes both in one transaction anyway.
--
-- Bronze is append-only and ingestion ids only grow, so a BRIN index on
-- ingestion_id finds a file's rows at a fraction of a btree's cost on every
-- COPY (a btree on (ingestion_id, source_row) made loads ~2x slower than a
-- bare \copy; see bench/ingest.py). Silver reads bronze whole anyway.
create schema bronze;

create table bronze.users (
    user_id             text,
    email               text,
    full_name           text,
    country             text,
    signup_date         text,
    subscription_tier   text,
    birth_year          text,
    updated_at          text,
    extra               jsonb,
    ingestion_id        bigint      not null,
    source_file         text        not null,
    source_row          bigint      not null,
    ingestion_timestamp timestamptz not null default now()
);
create index users_ingestion_brin on bronze.users using brin (ingestion_id);

create table bronze.viewing_sessions (
    session_id          text,
    user_id             text,
    content_id          text,
    started_at          text,
    ended_at            text,
    watch_seconds       text,
    device              text,
    extra               jsonb,
    ingestion_id        bigint      not null,
    source_file         text        not null,
    source_row          bigint      not null,
    ingestion_timestamp timestamptz not null default now()
);
create index viewing_sessions_ingestion_brin on bronze.viewing_sessions using brin (ingestion_id);

create table bronze.content (
    doc                 jsonb       not null,
    ingestion_id        bigint      not null,
    source_file         text        not null,
    source_row          bigint      not null,
    ingestion_timestamp timestamptz not null default now()
);
create index content_ingestion_brin on bronze.content using brin (ingestion_id);
