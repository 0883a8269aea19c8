"""dag_3_data_transformer_bronze: load the validated CSV files into bronze, check them."""

from __future__ import annotations

from airflow.sdk import dag, task

from dags.common.assets import BRONZE_CSV_TABLE_NAMES, BRONZE_CSV_TABLES, RAW_CSV_FILES
from dags.common.defaults import DAG_KWARGS, TAGS


@dag(
    dag_id="dag_3_data_transformer_bronze",
    schedule=[RAW_CSV_FILES],
    tags=[*TAGS, "bronze", "csv"],
    doc_md="""
### Bronze transformer (CSV)
On `raw.validated_csv_files`: loads the registered CSV files into
`bronze.users` and `bronze.viewing_sessions` with their metadata columns
(`ingestion_id`, `source_file`, `source_row`, `ingestion_timestamp`) in
batches of `bronze_batch_size`; a file that still fails is rejected whole.
Then runs the bronze checks of those tables (unless
`enable_data_quality_checks` is off) and emits `bronze.csv_tables`.
""",
    **DAG_KWARGS,
)
def dag_3_data_transformer_bronze():
    @task
    def load_csv_files() -> dict:
        from etl.ingest import load_registered
        from dags.common.runtime import run_step
        return run_step(load_registered, "csv", layer="bronze", batch_size_from="bronze_batch_size")

    @task(outlets=[BRONZE_CSV_TABLES])
    def check_bronze_csv() -> dict:
        from etl.quality import run_checks
        from dags.common.runtime import run_step
        return run_step(run_checks, "bronze", tables=BRONZE_CSV_TABLE_NAMES, quality=True)

    load_csv_files() >> check_bronze_csv()


dag_3_data_transformer_bronze()
