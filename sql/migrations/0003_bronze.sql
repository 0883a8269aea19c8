-- Bronze: everything that arrived, as it arrived. One text column per required
-- column (values exactly as read), extra columns as jsonb, and the file metadata.
-- ingestion_id refers to ops.ingestion_log; it is indexed but not a declared
-- foreign key, because a per-row RI trigger would halve COPY throughput and the
-- loader writes both in one transaction anyway.
create table if not exists bronze.users (
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
create index if not exists users_ingestion_idx on bronze.users (ingestion_id, source_row);

create table if not exists bronze.viewing_sessions (
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
create index if not exists viewing_sessions_ingestion_idx on bronze.viewing_sessions (ingestion_id, source_row);

create table if not exists bronze.content (
    doc                 jsonb       not null,
    ingestion_id        bigint      not null,
    source_file         text        not null,
    source_row          bigint      not null,
    ingestion_timestamp timestamptz not null default now()
);
create index if not exists content_ingestion_idx on bronze.content (ingestion_id, source_row);
