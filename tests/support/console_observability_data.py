"""Observability rows on top of the console dataset (`console_testdata`): anomaly flags,
KPI snapshots and a freshly built gold table, for the issue 16 views."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import psycopg

# (run_id, layer, subject, metric, reason, observed, median, lower, upper, direction, resolution)
ANOMALIES = [
    ("run-3", "silver", "silver.viewing_sessions", "rows_written", "", 0.0, 60.0, 54.0, 66.0,
     "below", None),
    ("run-3", "silver", "silver.viewing_sessions", "rejected_rows", "orphan_user", 3.0, 0.0, 0.0,
     1.0, "above", None),
    ("run-3", "silver", "silver", "quality_score", "", 90.0, 96.0, 94.0, 98.0, "below", None),
    ("run-2", "gold", "gold.kpi_summary", "rows_written", "", 9.0, 1.0, 0.0, 2.0, "above",
     "acknowledged"),
]
KPIS = {
    "run-1": {"users": 6, "sessions": 4_500_000, "total_watch_hours": 80_000.5,
              "avg_completion_pct": 71.2, "as_of": "2026-11-12T18:00:00+00:00"},
    "run-2": {"users": 7, "sessions": 4_935_112, "total_watch_hours": 82_500.25,
              "avg_completion_pct": 70.9, "as_of": "2026-11-13T18:00:00+00:00"},
}
FRESH_TABLE = "gold.daily_viewing"


def load(conn: psycopg.Connection) -> None:
    """Add the rows (one transaction); run after console_testdata.load."""
    now = datetime.now(timezone.utc)
    with conn.cursor() as cur:
        for (run_id, layer, subject, metric, reason, observed, median, lower, upper, direction,
             resolution) in ANOMALIES:
            run_at = cur.execute("select started_at from ops.pipeline_runs where run_id = %s",
                                 (run_id,)).fetchone()[0]
            cur.execute("""
                insert into ops.anomalies (run_id, layer, subject, metric, reason, observed,
                    baseline_median, baseline_mad, lower_bound, upper_bound, history_runs,
                    direction, run_at, resolved_at, resolution, resolved_by)
                values (%s, %s, %s, %s, %s, %s, %s, 1, %s, %s, 6, %s, %s, %s, %s, %s)""",
                (run_id, layer, subject, metric, reason, observed, median, lower, upper,
                 direction, run_at, now if resolution else None, resolution,
                 "admin" if resolution else None))
        for run_id, kpis in KPIS.items():
            cur.execute("insert into ops.kpi_history (run_id, kpis) values (%s, %s)",
                        (run_id, json.dumps(kpis)))
        cur.execute("""
            insert into ops.model_runs (run_id, model, layer, started_at, finished_at,
                duration_seconds, rows, status)
            values ('run-2', %s, 'gold', %s, %s, 1.0, 36, 'success')""",
            (FRESH_TABLE, now - timedelta(hours=1, seconds=1), now - timedelta(hours=1)))
