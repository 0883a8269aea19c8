"""Anomalies, freshness and run differences for the console, read through `etl.observability`.

The judging, the freshness limits and the diff live in `etl.observability` (one source of
truth, shared with the alerts); this module only calls it, turns the results into frames
for the pages, caches them (`st.cache_data`, keyed by the database like `reader`), and
turns an outage or a database without the observability tables into `DataUnavailable`.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import pandas as pd
import psycopg
import streamlit as st

from console.data.reader import TTL_OPS_SECONDS, DataUnavailable, _db_key
from etl.errors import ServiceUnavailable

log = logging.getLogger(__name__)

ANOMALY_COLUMNS = ["anomaly_id", "run_id", "layer", "subject", "metric", "reason", "observed",
                   "baseline_median", "lower_bound", "upper_bound", "history_runs", "direction",
                   "run_at", "detected_at", "resolved_at", "resolution", "resolved_by", "label",
                   "line"]
FRESHNESS_COLUMNS = ["table_name", "last_built_at", "age_hours", "max_age_hours", "is_stale",
                     "breached_at", "line"]


def _guard(fn: Callable[..., Any], params: dict) -> Any:
    """Call an etl.observability function; an outage or a missing table is DataUnavailable."""
    try:
        return fn(**params)
    except ServiceUnavailable as exc:
        raise DataUnavailable(str(exc)) from exc
    except psycopg.errors.UndefinedTable as exc:
        first = str(exc).strip().splitlines()[0]
        raise DataUnavailable(f"The database has no observability tables yet ({first}). "
                              "Run `medallion init` to create them.") from exc
    except psycopg.OperationalError as exc:
        raise DataUnavailable(f"The database stopped answering: {str(exc).strip()[:200]}") from exc


# The leading underscore keeps `_fn` out of the cache key: `name` stands for it.
@st.cache_data(ttl=TTL_OPS_SECONDS, show_spinner=False)
def _observed(db_key: str, name: str, _fn: Callable[..., Any], params: dict) -> Any:
    return _guard(_fn, params)


def _read(name: str, fn: Callable[..., Any], **params) -> Any:
    return _observed(_db_key(), name, fn, params)


# ------------------------------------------------------------------ anomalies

def _anomaly_frame(found: list) -> pd.DataFrame:
    rows = [{**{c: getattr(a, c) for c in ANOMALY_COLUMNS[:-2]}, "label": a.label,
             "line": a.describe()} for a in found]
    return pd.DataFrame(rows, columns=ANOMALY_COLUMNS)


def _list_anomalies(**params) -> pd.DataFrame:
    from etl.observability import anomalies

    return _anomaly_frame(anomalies.list_anomalies(**params))


def open_anomalies(layer: str | None = None) -> pd.DataFrame:
    """Anomalies neither recovered nor acknowledged, newest run first; `line` is the
    sentence of the alerts (`Anomaly.describe()`)."""
    return _read("open_anomalies", _list_anomalies, open_only=True, layer=layer, limit=200)


def anomalies_of(metrics: tuple[str, ...], open_only: bool = True,
                 limit: int = 200) -> pd.DataFrame:
    """The anomalies of some metrics (a page's own: rows written on Volumes, scores and
    rejected rows on Data quality), newest run first."""
    frames = [_read("anomalies_of", _list_anomalies, open_only=open_only, metric=metric,
                    limit=limit) for metric in metrics]
    found = pd.concat(frames, ignore_index=True) if frames else _anomaly_frame([])
    return found.sort_values(["run_at", "anomaly_id"], ascending=False).reset_index(drop=True)


def _history(**params) -> pd.DataFrame:
    from etl.observability import anomalies

    points = anomalies.history(**params)
    return pd.DataFrame([{"run_id": p.run_id, "run_at": p.run_at, "value": p.value}
                         for p in points], columns=["run_id", "run_at", "value"])


def anomaly_history(subject: str, metric: str, reason: str = "", limit: int = 50) -> pd.DataFrame:
    """The last values of one series (run_id, run_at, value), oldest first."""
    return _read("anomaly_history", _history, subject=subject, metric=metric, reason=reason,
                 limit=limit)


def acknowledge(anomaly_id: int, by: str) -> bool:
    """Close an open anomaly on a person's word (not cached); False when it was not open."""
    from etl.observability import anomalies

    done = _guard(anomalies.acknowledge, {"anomaly_id": int(anomaly_id), "by": by})
    _observed.clear()
    return bool(done)


# ------------------------------------------------------------------ freshness

def _ages() -> pd.DataFrame:
    from etl.observability import freshness

    rows = [{"table_name": t.table_name, "last_built_at": t.last_built_at,
             "age_hours": t.age_hours, "max_age_hours": t.max_age_hours,
             "is_stale": t.is_stale, "breached_at": t.breached_at, "line": t.describe()}
            for t in freshness.table_ages()]
    frame = pd.DataFrame(rows, columns=FRESHNESS_COLUMNS)
    return frame.sort_values(["is_stale", "table_name"], ascending=[False, True],
                             ignore_index=True)


def table_ages() -> pd.DataFrame:
    """Each gold table's age against its limit, stale ones first (reads only)."""
    return _read("table_ages", _ages)


# ------------------------------------------------------------------ what changed

def _previous(run_id: str) -> str | None:
    from etl.observability import changes

    return changes.previous_run(run_id)


def previous_run(run_id: str) -> str | None:
    """The successful run of the same kind before `run_id`, or None."""
    return _read("previous_run", _previous, run_id=run_id)


def _diff(run_a: str, run_b: str):
    from etl.observability import changes

    return changes.diff(run_a, run_b)


def run_diff(run_a: str, run_b: str):
    """`etl.observability.changes.diff` of two runs (a `RunDiff`; `before` started first);
    an unknown run raises `changes.UnknownRun`."""
    return _read("run_diff", _diff, run_a=run_a, run_b=run_b)


def diff_frames(found) -> dict[str, pd.DataFrame]:
    """A RunDiff as tables for the page: kpis, layers, tables, checks, files."""
    kpis = pd.DataFrame([{"kpi": k.name, "before": k.before, "after": k.after,
                          "change": k.delta, "change_pct": k.delta_pct, "changed": k.changed}
                         for k in found.kpis],
                        columns=["kpi", "before", "after", "change", "change_pct", "changed"])

    def rows(items) -> pd.DataFrame:
        return pd.DataFrame([{"layer": r.layer, "table": r.table_name, "before": r.before,
                              "after": r.after, "change": r.delta} for r in items],
                            columns=["layer", "table", "before", "after", "change"])

    checks = pd.DataFrame([{"layer": c.layer, "table": c.table_name, "check": c.check_name,
                            "before": c.before, "after": c.after,
                            "value before": c.value_before, "value after": c.value_after}
                           for c in found.checks],
                          columns=["layer", "table", "check", "before", "after",
                                   "value before", "value after"])
    files = pd.DataFrame([{"started_at": f.started_at, "source_file": f.source_file,
                           "entity": f.entity, "status": f.status, "rows_loaded": f.rows_loaded,
                           "run_id": f.run_id} for f in found.files],
                         columns=["started_at", "source_file", "entity", "status",
                                  "rows_loaded", "run_id"])
    return {"kpis": kpis, "layers": rows(found.layers), "tables": rows(found.tables),
            "checks": checks, "files": files}

