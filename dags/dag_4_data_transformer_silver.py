"""dag_4_data_transformer_silver: bronze -> silver -> checks (critical gate) -> gold -> checks."""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from dags.common.assets import BRONZE_CONTENT, BRONZE_CSV_TABLES, GOLD_TABLES
from dags.common.defaults import DAG_KWARGS, TAGS


@dag(
    dag_id="dag_4_data_transformer_silver",
    schedule=(BRONZE_CSV_TABLES & BRONZE_CONTENT),
    tags=[*TAGS, "silver", "gold"],
    params={
        "full_refresh": Param(False, type="boolean", title="Full refresh",
                              description="Rebuild silver and gold from all of bronze "
                                          "instead of only what is new."),
    },
    doc_md="""
### Silver and gold transformer
On both bronze assets (`bronze.csv_tables` and `bronze.content`):
Incremental by default (only the bronze ingestions not yet processed, and what they
touch); the `full_refresh` param rebuilds silver and gold from all of bronze.
1. `build_silver`: the `sql/silver` models (dedup, typing, validation, rejects);
2. `check_silver`: the silver checks; a failed **critical** check stops here
   (no retries) and gold is not built;
3. `build_gold`: the `sql/gold` models;
4. `record_kpis`: keeps this run's `gold.kpi_summary` (the console's What changed);
5. `check_gold`: the gold checks; emits `gold.tables`.

Checks are skipped when the Variable `enable_data_quality_checks` is false.
""",
    **DAG_KWARGS,
)
def dag_4_data_transformer_silver():
    @task
    def build_silver(params=None) -> dict:
        from etl.transform import build_silver
        from dags.common.runtime import run_step
        return run_step(build_silver, layer="silver",
                        full_refresh=bool((params or {}).get("full_refresh")))

    @task
    def check_silver() -> dict:
        from etl.quality import run_checks
        from dags.common.runtime import run_step
        return run_step(run_checks, "silver", gate=True, quality=True)

    @task
    def build_gold(params=None) -> dict:
        from etl.transform import build_gold
        from dags.common.runtime import run_step
        return run_step(build_gold, layer="gold",
                        full_refresh=bool((params or {}).get("full_refresh")))

    @task
    def record_kpis() -> dict:
        from etl.observability.changes import snapshot_kpis
        from dags.common.runtime import run_step
        return run_step(snapshot_kpis)

    @task(outlets=[GOLD_TABLES])
    def check_gold() -> dict:
        from etl.quality import run_checks
        from dags.common.runtime import run_step
        return run_step(run_checks, "gold", quality=True)

    build_silver() >> check_silver() >> build_gold() >> record_kpis() >> check_gold()


dag_4_data_transformer_silver()
