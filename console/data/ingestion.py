"""Ingestion from `ops`: the file log, status counts, rejected files and entity accounting."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import text

from console.data.reader import Query, as_array, as_dict, read_ops

INGESTION_LOG = Query("ingestion_log", text("""
    select ingestion_id, source_file, entity, status, rows_loaded, encoding,
           file_format, compression, file_size_bytes, error, started_at, finished_at,
           extract(epoch from finished_at - started_at) as seconds, run_id
    from ops.ingestion_log
    where cast(:statuses as text[]) is null or status = any(cast(:statuses as text[]))
    order by started_at desc, ingestion_id desc
    limit :limit
"""))

INGESTION_STATUS_COUNTS = Query("ingestion_status_counts", text("""
    select status, count(*) as files, coalesce(sum(rows_loaded), 0) as rows_loaded
    from ops.ingestion_log
    group by status
    order by status
"""))

INGESTION_REJECTED_RECENT = Query("ingestion_rejected_recent", text("""
    select source_file, entity, error, started_at
    from ops.ingestion_log
    where status = 'rejected' and started_at >= now() - make_interval(hours => :hours)
    order by started_at desc
    limit 50
"""))

ACCOUNTING_LATEST = Query("accounting_latest", text("""
    select distinct on (entity) run_id, entity, bronze_rows, silver_rows, superseded_rows,
           rejected_rows, rejected_by_reason, measured_at
    from ops.entity_accounting
    order by entity, measured_at desc
"""))


def ingestion_log(statuses: list[str] | None = None, limit: int = 500) -> pd.DataFrame:
    """The latest files of ops.ingestion_log, optionally only some statuses."""
    return read_ops(INGESTION_LOG, statuses=as_array(statuses), limit=limit)


def ingestion_status_counts() -> pd.DataFrame:
    """Files and rows per ingestion status, over all time."""
    return read_ops(INGESTION_STATUS_COUNTS)


def rejected_files(hours: int) -> pd.DataFrame:
    """Files rejected in the last `hours` hours, newest first (at most 50)."""
    return read_ops(INGESTION_REJECTED_RECENT, hours=hours)


def accounting_funnel() -> pd.DataFrame:
    """Latest accounting per entity as a long frame: entity, outcome, rows, balanced.

    Outcomes are `silver`, `superseded` and `rejected: <reason>`; `balanced` says
    whether bronze = silver + superseded + rejected holds for the entity.
    """
    frame = read_ops(ACCOUNTING_LATEST)
    rows = []
    for rec in frame.to_dict("records"):
        balanced = rec["bronze_rows"] == rec["silver_rows"] + rec["superseded_rows"] + rec["rejected_rows"]
        base = {"entity": rec["entity"], "run_id": rec["run_id"], "bronze_rows": rec["bronze_rows"],
                "balanced": balanced, "measured_at": rec["measured_at"]}
        rows.append({**base, "outcome": "silver", "rows": rec["silver_rows"]})
        rows.append({**base, "outcome": "superseded", "rows": rec["superseded_rows"]})
        reasons = as_dict(rec["rejected_by_reason"])
        for reason, count in sorted(reasons.items()):
            rows.append({**base, "outcome": f"rejected: {reason}", "rows": int(count)})
        unexplained = rec["rejected_rows"] - sum(int(c) for c in reasons.values())
        if unexplained > 0:
            rows.append({**base, "outcome": "rejected: (no reason recorded)", "rows": unexplained})
    columns = ["entity", "run_id", "bronze_rows", "balanced", "measured_at", "outcome", "rows"]
    return pd.DataFrame(rows, columns=columns)


def accounting_summary() -> pd.DataFrame:
    """Latest accounting per entity with whether its identity holds."""
    frame = read_ops(ACCOUNTING_LATEST)
    if frame.empty:
        return frame
    balanced = frame["bronze_rows"] == (frame["silver_rows"] + frame["superseded_rows"]
                                        + frame["rejected_rows"])
    return frame.drop(columns="rejected_by_reason").assign(balanced=balanced)
