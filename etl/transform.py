"""Silver and gold: run the SQL models of `sql/silver` and `sql/gold` (the original
`dag_4_data_transformer_silver`, `bronze_to_silver.sql`, `silver_to_gold.sql`).

Each model runs in one transaction. The default run is incremental: silver re-reads only
the keys of bronze ingestions it has not processed yet (and the keys that depend on them),
gold recomputes only the groups those changes touch; the result equals a full rebuild
(data-contract.md, section 3). `full_refresh` rebuilds every model from all of bronze;
a model also runs as a full refresh on its first run, after a change to its SQL file, and
after a model it reads was fully rebuilt (etl/sql_runner.py). `ops.model_runs` records per
model the `mode`, `rows_read` and `rows_changed`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from psycopg import sql

from etl import db, runs, sql_runner
from etl.errors import MedallionError, TerminalError
from etl.settings import Settings, get_settings

log = logging.getLogger(__name__)

ENTITIES = ("users", "viewing_sessions", "content")
SILVER_TABLES = (
    "users", "users_rejected", "content", "content_genres", "content_cast", "content_rejected",
    "viewing_sessions", "viewing_sessions_rejected",
)
GOLD_TABLES = (
    "fact_viewing", "content_performance", "user_engagement", "genre_performance",
    "country_insights", "daily_viewing", "kpi_summary",
    "daily_segment_viewing", "user_daily_viewing",
)


class AccountingMismatch(TerminalError):
    """bronze = silver + superseded + rejected does not hold for an entity (a model bug)."""


@dataclass(frozen=True)
class ModelRun:
    """One model of the run, as the report shows it."""

    name: str
    layer: str
    rows: int | None
    seconds: float
    status: str
    error: str | None = None
    mode: str | None = None
    rows_read: int | None = None
    rows_changed: int | None = None


@dataclass(frozen=True)
class EntityAccounting:
    """The accounting identity of one entity: bronze = silver + superseded + rejected."""

    entity: str
    bronze: int
    silver: int
    superseded: int
    rejected: int
    rejected_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.bronze == self.silver + self.superseded + self.rejected


@dataclass
class TransformReport:
    """What a transform did: models, rows per layer and table, rejections, accounting."""

    run_id: str
    full_refresh: bool
    layers: tuple[str, ...]
    models: list[ModelRun] = field(default_factory=list)
    rows: dict[str, dict[str, int]] = field(default_factory=dict)        # layer -> table -> rows
    rejected: dict[str, dict[str, int]] = field(default_factory=dict)    # entity -> reason -> rows
    accounting: dict[str, EntityAccounting] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(m.status == "success" for m in self.models)

    def rows_in_layer(self, layer: str) -> int:
        return sum(self.rows.get(layer, {}).values())

    def format(self) -> str:
        """The report the CLI prints: rows per layer, rejections, the identity, model times."""
        mode = "full refresh" if self.full_refresh else "incremental"
        lines = [f"transform {self.run_id} ({mode}): {', '.join(self.layers)} "
                 f"in {self.seconds:.2f} s"]
        lines.append("")
        lines.append("rows per layer")
        for layer, tables in self.rows.items():
            lines.append(f"  {layer}: {sum(tables.values()):,} rows")
            for table, n in tables.items():
                lines.append(f"    {layer}.{table:<28} {n:>12,}")
        if self.accounting:
            lines.append("")
            lines.append("accounting (bronze = silver + superseded + rejected)")
            for acc in self.accounting.values():
                mark = "ok" if acc.balanced else "MISMATCH"
                lines.append(f"  {acc.entity:<17} {acc.bronze:>10,} = {acc.silver:,} + "
                             f"{acc.superseded:,} + {acc.rejected:,}  {mark}")
            lines.append("")
            lines.append("rejected rows by reason")
            any_rejected = False
            for entity, reasons in self.rejected.items():
                for reason, n in reasons.items():
                    any_rejected = True
                    lines.append(f"  {entity:<17} {reason:<18} {n:>10,}")
            if not any_rejected:
                lines.append("  (none)")
        lines.append("")
        lines.append("models")
        for m in self.models:
            rows = "" if m.rows is None else f"{m.rows:,} rows"
            read = "-" if m.rows_read is None else f"{m.rows_read:,}"
            counts = ("" if m.mode is None else
                      f"  ({m.mode}: {read} read, {m.rows_changed or 0:,} changed)")
            lines.append(f"  {m.name:<28} {m.status:<8} {m.seconds:>8.2f} s  {rows}{counts}")
            if m.error:
                lines.append(f"    {m.error}")
        return "\n".join(lines)


def new_run_id() -> str:
    """A readable, unique id for a transform run (the one format: etl.runs.new_run_id)."""
    return runs.new_run_id("transform")


def _model_runs(results: list[sql_runner.ModelResult]) -> list[ModelRun]:
    return [ModelRun(r.name, r.layer, r.rows, r.seconds, r.status, r.error, r.mode,
                     r.rows_read, r.rows_changed) for r in results]


def _measure(report: TransformReport, settings: Settings) -> None:
    """Fill rows per table, and the accounting of this run, from the database."""
    tables = {"silver": SILVER_TABLES, "gold": GOLD_TABLES}
    with db.connect(settings) as conn:
        for layer in report.layers:
            report.rows[layer] = {
                t: conn.execute(sql.SQL("select count(*) from {}").format(
                    sql.Identifier(layer, t))).fetchone()[0]
                for t in tables[layer]
            }
        rows = conn.execute(
            "select entity, bronze_rows, silver_rows, superseded_rows, rejected_rows, "
            "rejected_by_reason from ops.entity_accounting where run_id = %s",
            (report.run_id,),
        ).fetchall()
    order = {e: i for i, e in enumerate(ENTITIES)}
    for entity, bronze, silver, superseded, rejected, by_reason in sorted(
            rows, key=lambda r: order.get(r[0], 99)):
        reasons = {k: int(v) for k, v in sorted((by_reason or {}).items())}
        report.accounting[entity] = EntityAccounting(entity, bronze, silver, superseded,
                                                     rejected, reasons)
        report.rejected[entity] = reasons


def transform(*, full_refresh: bool = False, run_id: str | None = None,
              layers: tuple[str, ...] = ("silver", "gold"),
              settings: Settings | None = None) -> TransformReport:
    """Build the given layers from bronze (silver) and silver (gold); returns the report.

    Raises a MedallionError (sql_runner.ModelFailed or ModelInterrupted) after recording
    the failed model run when a model fails; earlier models stay built, later ones are
    recorded as skipped, and the failed model's tables keep their previous contents.
    """
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    layers = tuple(layer for layer in sql_runner.LAYERS if layer in layers)
    report = TransformReport(run_id=run_id, full_refresh=full_refresh, layers=layers)
    started = time.perf_counter()
    models = sql_runner.discover(layers)
    log.info("transform %s: %d models (%s)", run_id, len(models), ", ".join(layers))
    try:
        results = sql_runner.run_models(models, run_id=run_id, full_refresh=full_refresh,
                                        settings=settings)
    except (sql_runner.ModelFailed, sql_runner.ModelInterrupted) as exc:
        report.models = _model_runs(exc.results)
        report.seconds = time.perf_counter() - started
        exc.report = report  # type: ignore[attr-defined]
        raise
    report.models = _model_runs(results)
    _measure(report, settings)
    report.seconds = time.perf_counter() - started
    unbalanced = [a for a in report.accounting.values() if not a.balanced]
    if unbalanced:
        raise AccountingMismatch(
            "bronze = silver + superseded + rejected does not hold for "
            + ", ".join(f"{a.entity} ({a.bronze} != {a.silver} + {a.superseded} + {a.rejected})"
                        for a in unbalanced)
            + f" in run {run_id}; this is a bug in sql/silver.")
    for layer in layers:
        log.info("%s: %d rows in %d tables", layer, report.rows_in_layer(layer),
                 len(report.rows[layer]))
    return report


def build_silver(*, full_refresh: bool = False, run_id: str | None = None,
                 settings: Settings | None = None) -> TransformReport:
    """Bring every silver table (and its _rejected table) up to date with bronze:
    incrementally, or from all of bronze with `full_refresh`."""
    return transform(full_refresh=full_refresh, run_id=run_id, layers=("silver",),
                     settings=settings)


def build_gold(*, full_refresh: bool = False, run_id: str | None = None,
               settings: Settings | None = None) -> TransformReport:
    """Bring every gold table up to date with silver: incrementally, or from all of silver
    with `full_refresh`."""
    return transform(full_refresh=full_refresh, run_id=run_id, layers=("gold",),
                     settings=settings)


def main(args) -> int:
    """CLI: `medallion transform [--full-refresh] [--layer silver|gold]`."""
    layers = (args.layer,) if getattr(args, "layer", None) else ("silver", "gold")
    try:
        report = transform(full_refresh=bool(getattr(args, "full_refresh", False)), layers=layers)
    except MedallionError as exc:
        partial = getattr(exc, "report", None)
        if partial is not None:
            print(partial.format())
        raise
    print(report.format())
    return 0
