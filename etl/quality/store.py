"""Storing a scan: `ops.dq_check_results`, `ops.dq_failed_rows` and `ops.dq_scores`."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from psycopg.types.json import Jsonb

from etl import db
from etl.quality.results import LayerResult
from etl.quality.scoring import count_outcomes, score
from etl.settings import Settings


def json_row(row: dict) -> Jsonb:
    """A failed row as JSON: dates, decimals and the like as text; NaN/±inf (not JSON) too."""
    def plain(value):
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        return value

    return Jsonb(json.loads(json.dumps({k: plain(v) for k, v in row.items()}, default=str)))


@dataclass(frozen=True)
class _Outcome:
    outcome: str
    weight: float
    critical: bool


def persist(result: LayerResult, tables: list[str], publish_score: bool,
            settings: Settings) -> tuple[float | None, dict[str, int]] | None:
    """Replace this run's results for these tables (a retry stays idempotent) and, unless
    the scan failed, upsert the layer's score; returns (score, counts) when published."""
    with db.transaction(settings) as conn:
        conn.execute(
            "delete from ops.dq_check_results where run_id = %s and layer = %s "
            "and table_name = any(%s)",
            (result.run_id, result.layer, tables),
        )
        for check in result.checks:
            (result_id,) = conn.execute(
                """insert into ops.dq_check_results
                       (run_id, layer, table_name, check_name, outcome, measured_value,
                        thresholds, dimension, weight, is_critical, measured_at)
                   values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                   returning result_id""",
                (result.run_id, result.layer, check.table, check.name, check.outcome,
                 check.value, check.thresholds, check.dimension, check.weight,
                 check.critical, result.measured_at),
            ).fetchone()
            for number, row in enumerate(check.failed_rows, start=1):
                conn.execute(
                    "insert into ops.dq_failed_rows (result_id, row_number, row_data) "
                    "values (%s, %s, %s)",
                    (result_id, number, json_row(row)),
                )
        if not publish_score:
            return None
        # One score per layer and run: over every check of this run and layer, so that
        # scans of table subsets (the bronze DAGs) add up to the layer's score.
        persisted = [
            _Outcome(outcome, weight, critical)
            for outcome, weight, critical in conn.execute(
                "select outcome, weight, is_critical from ops.dq_check_results "
                "where run_id = %s and layer = %s",
                (result.run_id, result.layer),
            )
        ]
        layer_score, counts = score(persisted), count_outcomes(persisted)
        critical = sum(1 for c in persisted if c.critical and c.outcome in ("fail", "error"))
        conn.execute(
            """insert into ops.dq_scores
                   (run_id, layer, score, measured_at, checks_total, checks_pass,
                    checks_warn, checks_fail, critical_failures)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
               on conflict (run_id, layer) do update set
                   score = excluded.score, measured_at = excluded.measured_at,
                   checks_total = excluded.checks_total, checks_pass = excluded.checks_pass,
                   checks_warn = excluded.checks_warn, checks_fail = excluded.checks_fail,
                   critical_failures = excluded.critical_failures""",
            (result.run_id, result.layer, layer_score, result.measured_at, counts["total"],
             counts["pass"], counts["warn"], counts["fail"], critical),
        )
        return layer_score, counts
