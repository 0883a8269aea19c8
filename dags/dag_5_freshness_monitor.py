"""dag_5_freshness_monitor: every hour, each gold table's age against its limit (not in the
original pipeline: a stalled chain cannot report its own staleness, a separate clock can)."""

from __future__ import annotations

from airflow.sdk import dag, task

from dags.common.defaults import DAG_KWARGS, TAGS


@dag(
    dag_id="dag_5_freshness_monitor",
    schedule="@hourly",
    tags=[*TAGS, "gold", "monitoring"],
    doc_md="""
### Gold freshness monitor
Every hour: the age of each gold table (since its last successful build) against
`GOLD_MAX_AGE_HOURS` (per table: `GOLD_MAX_AGE_OVERRIDES`). A table that turns stale
opens a breach and raises one alert (e-mail, Slack); its recovery is noted once.
Same as `medallion freshness`.
""",
    **DAG_KWARGS,
)
def dag_5_freshness_monitor():
    @task
    def check_gold_freshness() -> dict:
        from etl.observability.freshness import check_freshness
        from dags.common.runtime import run_step
        return run_step(check_freshness)

    check_gold_freshness()


dag_5_freshness_monitor()
