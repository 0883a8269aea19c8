"""The assets that chain the DAGs, named `<layer>.<what>`.

Every successful run of a producer emits all its assets, even when nothing was
new, so one `dag_2` run is always followed by both `dag_3` runs and one `dag_4` run.
"""

from __future__ import annotations

from airflow.sdk import Asset

# dag_2 -> dag_3: files that passed validation and wait in ops.ingestion_log.
RAW_CSV_FILES = Asset(name="raw.validated_csv_files", uri="medallion://raw/validated_csv_files",
                      extra={"entities": ["users", "viewing_sessions"]})
RAW_JSON_FILES = Asset(name="raw.validated_json_files", uri="medallion://raw/validated_json_files",
                       extra={"entities": ["content"]})

# dag_3 -> dag_4: bronze tables loaded (and checked).
BRONZE_CSV_TABLES = Asset(name="bronze.csv_tables", uri="medallion://bronze/csv_tables",
                          extra={"tables": ["bronze.users", "bronze.viewing_sessions"]})
BRONZE_CONTENT = Asset(name="bronze.content", uri="medallion://bronze/content",
                       extra={"tables": ["bronze.content"], "mongo": ["bronze_content_json"]})

# dag_4 -> whoever watches (console): silver and gold rebuilt and checked.
GOLD_TABLES = Asset(name="gold.tables", uri="medallion://gold/tables")

BRONZE_CSV_TABLE_NAMES = ["bronze.users", "bronze.viewing_sessions"]
BRONZE_JSON_TABLE_NAMES = ["bronze.content"]
