"""dag_3_data_transformer_bronze_json: load the validated JSON files into bronze, check them."""

from __future__ import annotations

from airflow.sdk import dag, task

from dags.common.assets import BRONZE_CONTENT, BRONZE_JSON_TABLE_NAMES, RAW_JSON_FILES
from dags.common.defaults import DAG_KWARGS, TAGS


@dag(
    dag_id="dag_3_data_transformer_bronze_json",
    schedule=[RAW_JSON_FILES],
    tags=[*TAGS, "bronze", "json"],
    doc_md="""
### Bronze transformer (JSON)
On `raw.validated_json_files`: loads the registered JSON / JSON Lines files
into `bronze.content` (one `jsonb` document per row) and the MongoDB
collection `bronze_content_json`, with the metadata fields, in batches of
`bronze_batch_size`. Then runs the bronze checks of `bronze.content` (unless
`enable_data_quality_checks` is off) and emits `bronze.content`.
""",
    **DAG_KWARGS,
)
def dag_3_data_transformer_bronze_json():
    @task
    def load_json_files() -> dict:
        from etl.ingest import load_registered
        from dags.common.runtime import run_step
        return run_step(load_registered, "json", layer="bronze", batch_size_from="bronze_batch_size")

    @task(outlets=[BRONZE_CONTENT])
    def check_bronze_json() -> dict:
        from etl.quality import run_checks
        from dags.common.runtime import run_step
        return run_step(run_checks, "bronze", tables=BRONZE_JSON_TABLE_NAMES, quality=True)

    load_json_files() >> check_bronze_json()


dag_3_data_transformer_bronze_json()
