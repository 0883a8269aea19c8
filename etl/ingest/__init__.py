"""Bronze ingestion (contract sections 1 and 2): raw files into PostgreSQL and MongoDB.

- `pipeline`: the public API: `register_files` (dag_2), `load_registered` (dag_3), `ingest` (CLI)
- `registration`, `loading`: the two halves behind it
- `discover`: which files, which entity, in byte order of path
- `source`: opening (gzip), hashing, encoding (UTF-8, else cp1252)
- `header`, `records`, `csv`: the header row, the streaming byte pass, COPY
- `json`: streamed documents of `.json` arrays and `.jsonl` lines
- `mongo`: `bronze_content_json` batches and their clean-up
- `registry`: `ops.ingestion_log` and `ops.ingestion_queue`
- `session`, `retry`, `progress`, `report`, `command`: plumbing and `medallion ingest`
"""
