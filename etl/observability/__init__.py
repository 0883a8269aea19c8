"""Observability of the pipeline's own output (issue 16): is this normal, is it late, what changed.

- `anomalies`: rows written, rejected rows per reason and quality scores per run, flagged
  when outside a robust baseline of the previous runs (`baseline`), alerted once.
- `freshness`: the age of each gold table against its allowed maximum; breaches and
  recoveries recorded and alerted once.
- `changes`: the differences between two pipeline runs, and the KPI history they need.
- `watch`: what runs after a pipeline run (anomalies, then freshness).

Plain Python over PostgreSQL: no Airflow, no Streamlit. Modules are imported lazily by
their callers, so importing the package costs nothing.
"""
