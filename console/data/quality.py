"""Data quality from `ops`: scores per layer, check results, their history and failed rows."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import text

from console.data.reader import LAYERS, Query, as_dict, read_ops

DQ_LATEST_SCORES = Query("dq_latest_scores", text("""
    with ranked as (
        select layer, run_id, score, measured_at, checks_total, checks_pass, checks_warn,
               checks_fail, critical_failures,
               row_number() over (partition by layer order by measured_at desc, run_id desc) as rn
        from ops.dq_scores
    )
    select cur.layer, cur.run_id, cur.score, cur.measured_at, cur.checks_total,
           cur.checks_pass, cur.checks_warn, cur.checks_fail, cur.critical_failures,
           prev.score as previous_score, cur.score - prev.score as score_change
    from ranked cur
    left join ranked prev on prev.layer = cur.layer and prev.rn = 2
    where cur.rn = 1
"""))

DQ_SCORES_HISTORY = Query("dq_scores_history", text("""
    select layer, run_id, score, measured_at, checks_total, checks_fail, critical_failures
    from ops.dq_scores
    order by measured_at desc
    limit :limit
"""))

DQ_CURRENT_RESULTS = Query("dq_current_results", text("""
    select distinct on (table_name, check_name)
           result_id, run_id, layer, table_name, check_name, outcome, measured_value,
           thresholds, dimension, weight, is_critical, measured_at,
           (select count(*) from ops.dq_failed_rows f where f.result_id = r.result_id)
               as failed_row_samples
    from ops.dq_check_results r
    order by table_name, check_name, measured_at desc, result_id desc
"""))

DQ_CHECK_HISTORY = Query("dq_check_history", text("""
    select result_id, run_id, outcome, measured_value, thresholds, measured_at
    from ops.dq_check_results
    where table_name = :table_name and check_name = :check_name
    order by measured_at desc, result_id desc
    limit :limit
"""))

DQ_FAILED_ROWS = Query("dq_failed_rows", text("""
    select row_number, row_data
    from ops.dq_failed_rows
    where result_id = :result_id
    order by row_number
    limit :limit
"""))


def latest_scores() -> pd.DataFrame:
    """Latest data-quality score per layer with the previous one and the change."""
    frame = read_ops(DQ_LATEST_SCORES)
    order = {layer: i for i, layer in enumerate(LAYERS)}
    return frame.sort_values("layer", key=lambda s: s.map(order).fillna(99)).reset_index(drop=True)


def scores_history(limit: int = 500) -> pd.DataFrame:
    """Scores per layer over time, oldest first."""
    return read_ops(DQ_SCORES_HISTORY, limit=limit).sort_values("measured_at")


def current_check_results() -> pd.DataFrame:
    """The latest result of every check (one row per table and check name)."""
    return read_ops(DQ_CURRENT_RESULTS)


def filter_check_results(results: pd.DataFrame, layers=None, tables=None, outcomes=None,
                         dimensions=None) -> pd.DataFrame:
    """Rows of `current_check_results()` matching every non-empty filter."""
    mask = pd.Series(True, index=results.index)
    for column, wanted in (("layer", layers), ("table_name", tables),
                           ("outcome", outcomes), ("dimension", dimensions)):
        if wanted:
            mask &= results[column].isin(list(wanted))
    return results[mask]


def checks_for_review(results: pd.DataFrame) -> pd.DataFrame:
    """Check results worst first (error, fail, warn, pass; critical first), with a `label`."""
    rank = {"error": 0, "fail": 1, "warn": 2, "pass": 3}
    ordered = results.assign(
        label=results["table_name"] + " · " + results["check_name"],
        _rank=results["outcome"].map(rank).fillna(4),
        _critical=~results["is_critical"].fillna(False).astype(bool),
    ).sort_values(["_rank", "_critical", "label"])
    return ordered.drop(columns=["_rank", "_critical"]).reset_index(drop=True)


def check_history(table_name: str, check_name: str, limit: int = 200) -> pd.DataFrame:
    """Every recorded result of one check, newest first."""
    return read_ops(DQ_CHECK_HISTORY, table_name=table_name, check_name=check_name, limit=limit)


def failed_rows(result_id: int, limit: int = 100) -> pd.DataFrame:
    """The failed-row samples of one check result, one column per field."""
    frame = read_ops(DQ_FAILED_ROWS, result_id=int(result_id), limit=limit)
    if frame.empty:
        return frame
    samples = pd.json_normalize([as_dict(v) for v in frame["row_data"]])
    samples.insert(0, "row_number", frame["row_number"].to_numpy())
    return samples
