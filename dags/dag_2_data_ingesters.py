"""dag_2_data_ingesters: discover, validate and register raw files; announce them to dag_3."""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from dags.common.assets import RAW_CSV_FILES, RAW_JSON_FILES
from dags.common.defaults import DAG_KWARGS, TAGS, ingest_schedule


@dag(
    dag_id="dag_2_data_ingesters",
    schedule=ingest_schedule(),
    tags=[*TAGS, "ingest", "bronze"],
    params={
        "raw_dir": Param(None, type=["null", "string"], title="Raw folder",
                         description="Folder searched recursively for raw files; it must "
                                     "resolve inside RAW_DATA_PATH (relative: to it); "
                                     "empty means RAW_DATA_PATH."),
    },
    doc_md="""
### Data ingesters
Makes sure the schema exists, then finds the raw files under the raw folder,
validates each (readable, encoding, required columns) and registers it in
`ops.ingestion_log`: duplicates, ignored and rejected files are settled here.
Emits `raw.validated_csv_files` and `raw.validated_json_files` on every
successful run (even when nothing was new), which triggers both `dag_3` DAGs.

Schedule: `@daily` unless `MEDALLION_INGEST_SCHEDULE` says otherwise.
""",
    **DAG_KWARGS,
)
def dag_2_data_ingesters():
    @task
    def ensure_schema() -> dict:
        from etl.schema import init
        from dags.common.runtime import run_step
        return run_step(init)

    @task(outlets=[RAW_CSV_FILES, RAW_JSON_FILES])
    def register_files(params=None) -> dict:
        from etl.ingest import register_files
        from dags.common.runtime import raw_dir_param, run_step
        return run_step(register_files, raw_dir_param(params), within_raw_data_path=True)

    ensure_schema() >> register_files()


dag_2_data_ingesters()
