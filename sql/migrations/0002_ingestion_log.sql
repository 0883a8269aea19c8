-- One row per raw file seen by an ingestion: the registry that makes loads idempotent.
create table if not exists ops.ingestion_log (
    ingestion_id     bigserial primary key,
    source_file      text        not null,             -- relative to RAW_DATA_PATH, '/' separators
    sha256           text,
    entity           text,                             -- users | viewing_sessions | content (null when ignored)
    status           text        not null,
    rows_loaded      bigint      not null default 0,
    encoding         text,
    error            text,
    started_at       timestamptz not null default now(),
    finished_at      timestamptz,
    file_size_bytes  bigint,
    file_modified_at timestamptz,                      -- the file's mtime: start of end-to-end latency
    compression      text,                             -- gzip or null
    file_format      text,                             -- csv | json | jsonl
    run_id           text,                             -- ops.pipeline_runs.run_id when known
    constraint ingestion_log_status_check
        check (status in ('loaded', 'skipped_duplicate', 'rejected', 'ignored')),
    constraint ingestion_log_entity_check
        check (entity is null or entity in ('users', 'viewing_sessions', 'content')),
    constraint ingestion_log_encoding_check
        check (encoding is null or encoding in ('utf-8', 'cp1252')),
    constraint ingestion_log_error_when_rejected
        check (status <> 'rejected' or coalesce(btrim(error), '') <> '')
);

-- A content (SHA-256) is loaded at most once: this also stops two concurrent runs
-- from loading the same file twice.
create unique index if not exists ingestion_log_loaded_sha256_uq
    on ops.ingestion_log (sha256) where status = 'loaded';
create index if not exists ingestion_log_source_file_idx on ops.ingestion_log (source_file);
create index if not exists ingestion_log_started_at_idx on ops.ingestion_log (started_at);
create index if not exists ingestion_log_run_id_idx on ops.ingestion_log (run_id);
