-- Metadata columns filled on the fly while PostgreSQL parses a CSV with COPY:
-- the loader sets `medallion.ingestion_id` / `medallion.source_file` for its
-- transaction and numbers data rows with a session-local sequence (late-bound by
-- name, so each loading session counts its own file from 1). An insert that sets
-- none of these fails loudly instead of writing rows without provenance.
alter table bronze.users
    alter column ingestion_id set default current_setting('medallion.ingestion_id')::bigint,
    alter column source_file  set default current_setting('medallion.source_file'),
    alter column source_row   set default nextval('pg_temp.medallion_source_row'::text);
alter table bronze.viewing_sessions
    alter column ingestion_id set default current_setting('medallion.ingestion_id')::bigint,
    alter column source_file  set default current_setting('medallion.source_file'),
    alter column source_row   set default nextval('pg_temp.medallion_source_row'::text);
