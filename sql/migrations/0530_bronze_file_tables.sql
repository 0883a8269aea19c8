-- Large CSV files get a bronze table of their own (issue 14, ingestion speed).
-- Maintaining the key expression indexes of 0501 row by row doubled the server's work
-- on a COPY into bronze (2M rows: 4.6 s of backend CPU and ~650 MB of WAL, against
-- 1.8 s and ~300 MB without them). A file above the loader's size threshold is therefore
-- copied into a new table here, created in the loading transaction (COPY FREEZE), its
-- indexes built once by sorting, and made an inheritance child of bronze.<entity>
-- before the transaction commits: readers of bronze.<entity> see all of the file's rows
-- or none of them, exactly as before. Each child table is named <entity>_<ingestion_id>
-- and holds only that ingestion (a CHECK constraint says so). Smaller files, and files
-- with extra columns, still go into bronze.<entity> itself (see etl/ingest/csv.py).
create schema if not exists bronze_files;
comment on schema bronze_files is
    'Inheritance children of bronze.users and bronze.viewing_sessions, one per large loaded CSV file; read them through their bronze parent';
