"""dag_5_pipeline_monitor: every hour, anomaly flags and gold freshness (not in the original
pipeline: a stalled chain cannot report its own staleness, a separate clock can)."""

from __future__ import annotations

from airflow.sdk import dag, task

from dags.common.defaults import DAG_KWARGS, TAGS


@dag(
    dag_id="dag_5_pipeline_monitor",
    schedule="@hourly",
    tags=[*TAGS, "monitoring"],
    doc_md="""
### Pipeline monitor
Every hour:
- the latest rows written per table, rejected rows per reason and quality score per layer
  against a robust baseline of recent runs (median ± k·MAD: `ANOMALY_*`); a new anomaly
  raises one alert (e-mail, Slack) and is listed on the console's Overview;
- the age of each gold table (since its last successful build) against `GOLD_MAX_AGE_HOURS`
  (per table: `GOLD_MAX_AGE_OVERRIDES`); a table that turns stale raises one alert, and its
  recovery is noted once.
Same as `medallion anomalies` plus `medallion freshness`.
""",
    **DAG_KWARGS,
)
def dag_5_pipeline_monitor():
    @task
    def watch_pipeline() -> dict:
        from etl.observability.watch import watch_latest
        from dags.common.runtime import run_step
        return run_step(watch_latest)

    watch_pipeline()


dag_5_pipeline_monitor()
