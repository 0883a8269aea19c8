"""dag_1_dw_layers_generator: create the layer schemas (manual, run once at setup)."""

from __future__ import annotations

from airflow.sdk import dag, task

from dags.common.defaults import DAG_KWARGS, TAGS


@dag(
    dag_id="dag_1_dw_layers_generator",
    schedule=None,
    tags=[*TAGS, "schema"],
    doc_md="""
### Layer generator
Creates every schema, table and index of bronze, silver, gold and ops
(`sql/schema`, then the deltas in `sql/migrations`, each applied once) and the MongoDB collection
`bronze_content_json`. Idempotent: a second run applies nothing.
Same as `medallion init`.
""",
    **DAG_KWARGS,
)
def dag_1_dw_layers_generator():
    @task
    def create_layer_schemas() -> dict:
        from etl.schema import init
        from dags.common.runtime import run_step
        return run_step(init)

    create_layer_schemas()


dag_1_dw_layers_generator()
