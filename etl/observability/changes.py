"""What changed between two pipeline runs (issue 16 item 5).

- gold KPIs: `gold.kpi_summary` is rebuilt by every run, so each run keeps a copy of its
  row in `ops.kpi_history` (`snapshot_kpis`, called right after gold is built);
- rows per table (`ops.model_runs` for silver and gold, `ops.ingestion_log` for bronze)
  and per layer (`ops.pipeline_runs`);
- checks whose outcome flipped (`ops.dq_check_results` of both runs);
- files that arrived between them (`ops.ingestion_log`): files ingested after the earlier
  run started, except its own, up to the later run's start, plus the later run's own
  files (a CLI run ingests inside the run; a DAG run of dag_4 reads what dag_3 runs
  ingested before it).

The earlier run (by start time) is always `before`, whichever order the runs are given in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from etl import db
from etl.errors import TerminalError
from etl.settings import Settings, get_settings

log = logging.getLogger(__name__)


class UnknownRun(TerminalError):
    """A run id that ops.pipeline_runs does not hold."""


@dataclass(frozen=True)
class RunRef:
    """The identity of one pipeline run."""

    run_id: str
    dag_id: str | None
    status: str
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class ValueChange:
    """One gold KPI in both runs (None where a run has no snapshot or no such KPI)."""

    name: str
    before: Any
    after: Any

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def delta(self) -> float | None:
        if _is_number(self.before) and _is_number(self.after):
            return self.after - self.before
        return None

    @property
    def delta_pct(self) -> float | None:
        """Relative change in percent; None when not numeric or the value was 0."""
        delta = self.delta
        return None if delta is None or not self.before else 100.0 * delta / abs(self.before)


@dataclass(frozen=True)
class TableRows:
    """Rows a run wrote to a table (or a layer, where `table_name` is the layer)."""

    layer: str
    table_name: str
    before: int | None
    after: int | None

    @property
    def delta(self) -> int | None:
        return None if self.before is None or self.after is None else self.after - self.before


@dataclass(frozen=True)
class CheckFlip:
    """A check run in both runs whose outcome differs."""

    layer: str
    table_name: str
    check_name: str
    before: str
    after: str
    value_before: float | None
    value_after: float | None


@dataclass(frozen=True)
class ArrivedFile:
    """A row of ops.ingestion_log between the two runs."""

    ingestion_id: int
    source_file: str
    entity: str | None
    status: str
    rows_loaded: int
    started_at: datetime
    run_id: str | None


@dataclass(frozen=True)
class RunDiff:
    """Everything that differs between two runs; `before` started first."""

    before: RunRef
    after: RunRef
    kpis: list[ValueChange] = field(default_factory=list)
    layers: list[TableRows] = field(default_factory=list)
    tables: list[TableRows] = field(default_factory=list)
    checks: list[CheckFlip] = field(default_factory=list)
    files: list[ArrivedFile] = field(default_factory=list)

    @property
    def has_kpis(self) -> bool:
        """False when a run has no KPI snapshot (gold not built, or run before snapshots)."""
        return any(k.before is not None for k in self.kpis) and any(
            k.after is not None for k in self.kpis)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ------------------------------------------------------------------ KPI history

def snapshot_kpis(run_id: str, settings: Settings | None = None) -> dict | None:
    """Keep gold.kpi_summary's row as `run_id`'s KPIs in ops.kpi_history (upsert: a retry
    overwrites); returns the KPIs, or None when gold.kpi_summary is empty."""
    with db.transaction(settings or get_settings()) as conn:
        row = conn.execute(
            """insert into ops.kpi_history (run_id, kpis)
               select %s, to_jsonb(k) from (select * from gold.kpi_summary limit 1) as k
               on conflict (run_id) do update set kpis = excluded.kpis, snapshot_at = now()
               returning kpis""", (run_id,)).fetchone()
    if row is None:
        log.warning("run %s: gold.kpi_summary is empty, no KPI snapshot kept", run_id)
        return None
    log.info("run %s: KPI snapshot kept (%d values)", run_id, len(row[0]))
    return row[0]


def kpi_history(*, limit: int = 100, settings: Settings | None = None) -> list[tuple[str, datetime, dict]]:
    """(run_id, snapshot_at, kpis) of the latest snapshots, oldest first (for trends)."""
    with db.connect(settings or get_settings()) as conn:
        rows = conn.execute(
            """select run_id, snapshot_at, kpis from (
                   select * from ops.kpi_history order by snapshot_at desc limit %s) h
               order by snapshot_at""", (limit,)).fetchall()
    return [tuple(row) for row in rows]


# ------------------------------------------------------------------ runs

_RUN = """select run_id, dag_id, status, started_at, finished_at from ops.pipeline_runs
          where run_id = %s"""


def get_run(run_id: str, settings: Settings | None = None) -> RunRef:
    """The run, or UnknownRun naming where run ids are listed."""
    with db.connect(settings or get_settings()) as conn:
        row = conn.execute(_RUN, (run_id,)).fetchone()
    if row is None:
        raise UnknownRun(f"no pipeline run {run_id!r} in ops.pipeline_runs: pick a run_id from "
                         "the console's Runs page or `select run_id from ops.pipeline_runs`")
    return RunRef(*row)


def previous_run(run_id: str, *, successful_only: bool = True,
                 settings: Settings | None = None) -> str | None:
    """The run of the same kind (same DAG, or the CLI) that started last before `run_id`
    (successful ones only, by default), for "since the previous run"; None if none."""
    with db.connect(settings or get_settings()) as conn:
        row = conn.execute(
            """select p.run_id from ops.pipeline_runs p, ops.pipeline_runs r
               where r.run_id = %(run_id)s and p.run_id <> r.run_id
                 and p.dag_id is not distinct from r.dag_id
                 and p.started_at < r.started_at
                 and (not %(ok)s or p.status = 'success')
               order by p.started_at desc limit 1""",
            {"run_id": run_id, "ok": successful_only}).fetchone()
    return row[0] if row else None


# ------------------------------------------------------------------ the parts of a diff

def _kpis(conn, before: str, after: str) -> list[ValueChange]:
    snapshots = dict(conn.execute("select run_id, kpis from ops.kpi_history where run_id = any(%s)",
                                  ([before, after],)).fetchall())
    a, b = snapshots.get(before) or {}, snapshots.get(after) or {}
    names = list(dict.fromkeys([*a, *b]))
    return [ValueChange(name, a.get(name), b.get(name)) for name in names]


_TABLE_ROWS = """
select layer, table_name, rows from (
    select distinct on (model) layer, model as table_name, rows
    from ops.model_runs where run_id = %(run_id)s and status = 'success'
    order by model, finished_at desc nulls last) m
union all
select 'bronze', 'bronze.' || entity, sum(rows_loaded)
from ops.ingestion_log where run_id = %(run_id)s and status = 'loaded' and entity is not null
group by entity
"""


def _rows(conn, before: str, after: str) -> tuple[list[TableRows], list[TableRows]]:
    found: dict[tuple[str, str], list[int | None]] = {}
    for position, run_id in enumerate((before, after)):
        for layer, table, rows in conn.execute(_TABLE_ROWS, {"run_id": run_id}):
            found.setdefault((layer, table), [None, None])[position] = (
                None if rows is None else int(rows))
    order = {"bronze": 0, "silver": 1, "gold": 2}
    tables = [TableRows(layer, table, *values) for (layer, table), values
              in sorted(found.items(), key=lambda item: (order.get(item[0][0], 3), item[0][1]))]
    totals = {run_id: row for run_id, *row in conn.execute(
        """select run_id, rows_bronze, rows_silver, rows_gold from ops.pipeline_runs
           where run_id = any(%s)""", ([before, after],))}
    layers = [TableRows(layer, layer, totals.get(before, [None] * 3)[i],
                        totals.get(after, [None] * 3)[i])
              for i, layer in enumerate(("bronze", "silver", "gold"))]
    return layers, tables


_CHECKS = """
select distinct on (table_name, check_name) layer, table_name, check_name, outcome, measured_value
from ops.dq_check_results where run_id = %s
order by table_name, check_name, result_id desc
"""


def _check_flips(conn, before: str, after: str) -> list[CheckFlip]:
    a = {(r[1], r[2]): r for r in conn.execute(_CHECKS, (before,))}
    b = {(r[1], r[2]): r for r in conn.execute(_CHECKS, (after,))}
    return [CheckFlip(b[key][0], key[0], key[1], a[key][3], b[key][3], a[key][4], b[key][4])
            for key in sorted(a.keys() & b.keys()) if a[key][3] != b[key][3]]


def _files(conn, before: RunRef, after: RunRef) -> list[ArrivedFile]:
    rows = conn.execute(
        """select ingestion_id, source_file, entity, status, rows_loaded, started_at, run_id
           from ops.ingestion_log
           where run_id is distinct from %(a)s and started_at > %(a_start)s
             and (started_at <= %(b_start)s or run_id = %(b)s)
           order by started_at, ingestion_id""",
        {"a": before.run_id, "a_start": before.started_at, "b": after.run_id,
         "b_start": after.started_at}).fetchall()
    return [ArrivedFile(*row) for row in rows]


def diff(run_a: str, run_b: str, settings: Settings | None = None) -> RunDiff:
    """What differs between two pipeline runs (in either order); UnknownRun when one is
    not in ops.pipeline_runs."""
    settings = settings or get_settings()
    before, after = sorted((get_run(run_a, settings), get_run(run_b, settings)),
                           key=lambda r: (r.started_at, r.run_id))
    with db.connect(settings) as conn:
        layers, tables = _rows(conn, before.run_id, after.run_id)
        result = RunDiff(before, after, kpis=_kpis(conn, before.run_id, after.run_id),
                         layers=layers, tables=tables,
                         checks=_check_flips(conn, before.run_id, after.run_id),
                         files=_files(conn, before, after))
    log.info("diff %s -> %s: %d KPI(s) changed, %d check(s) flipped, %d file(s) arrived",
             before.run_id, after.run_id, sum(k.changed for k in result.kpis),
             len(result.checks), len(result.files))
    return result
