"""Bronze ingestion (contract sections 1 and 2): raw files into PostgreSQL and MongoDB.

- `discover`: which files, which entity, in byte order of path
- `source`: opening (gzip), hashing, encoding (UTF-8, else cp1252)
- `csv`: header mapping, the streaming byte pass, COPY
- `json`: streamed documents of `.json` arrays and `.jsonl` lines
- `mongo`: `bronze_content_json` batches and their clean-up
- `registry`: `ops.ingestion_log` and `ops.ingestion_queue`
- `retry`: exponential backoff for transient database errors
- `pipeline`: `register_files` (dag_2), `load_registered` (dag_3), `ingest` (CLI)
- `command`: `medallion ingest`
"""
