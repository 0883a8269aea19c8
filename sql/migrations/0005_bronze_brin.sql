-- Bronze is append-only and ingestion ids only grow, so a BRIN index on
-- ingestion_id finds a file's rows at a fraction of a btree's cost on every
-- COPY (the btree on (ingestion_id, source_row) made loads ~2x slower than a
-- bare \copy; see bench/ingest.py). Silver reads bronze whole anyway.
drop index if exists bronze.users_ingestion_idx;
drop index if exists bronze.viewing_sessions_ingestion_idx;
drop index if exists bronze.content_ingestion_idx;
create index if not exists users_ingestion_brin on bronze.users using brin (ingestion_id);
create index if not exists viewing_sessions_ingestion_brin on bronze.viewing_sessions using brin (ingestion_id);
create index if not exists content_ingestion_brin on bronze.content using brin (ingestion_id);
