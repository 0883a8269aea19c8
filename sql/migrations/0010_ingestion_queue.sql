-- Files validated by registration (dag_2) but not loaded yet (dag_3). Kept apart
-- from ops.ingestion_log so that its status only ever holds the contract's four values.
create table if not exists ops.ingestion_queue (
    queue_id         bigserial   primary key,
    source_file      text        not null,             -- relative to the raw dir used, '/' separators
    file_path        text        not null,             -- absolute path at registration
    sha256           text        not null,
    entity           text        not null,
    file_format      text        not null,             -- csv | json | jsonl
    compression      text,                             -- gzip or null
    encoding         text        not null,             -- utf-8 | cp1252
    file_size_bytes  bigint      not null,
    file_mtime_ns    bigint      not null,             -- to notice a file changed before loading
    file_modified_at timestamptz,
    run_id           text,
    registered_at    timestamptz not null default now(),
    constraint ingestion_queue_file_uq unique (source_file, sha256),
    constraint ingestion_queue_entity_check check (entity in ('users', 'viewing_sessions', 'content')),
    constraint ingestion_queue_encoding_check check (encoding in ('utf-8', 'cp1252'))
);
