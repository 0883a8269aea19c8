"""Data quality: run the SodaCL checks of a layer, persist every result, score the layer.

The checks live in `checks/<layer>/<table>.yml` (one `checks for <schema>.<table>` block
per file); each check carries `attributes` for its layer, dimension, weight and whether
it is critical. A scan writes, in one transaction:

- one `ops.dq_check_results` row per check (outcome pass / warn / fail / error),
- up to `SAMPLE_LIMIT` failed-row samples per check in `ops.dq_failed_rows`,
- one `ops.dq_scores` row per layer and run: 100 × Σ weight × credit / Σ weight, where a
  pass earns 1, a warn 0.5 and a fail 0.

A scan that Soda could not complete (connection, SQL or configuration error) publishes no
score and raises `QualityScanError` with Soda's reason. With `gate=True`, a failed critical
check raises `QualityGateFailed` after everything is persisted.

Soda runs offline: no Soda Cloud section, and its usage statistics are switched off by
pointing its global settings at `checks/soda_config.yml` before Soda is imported.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from psycopg.types.json import Jsonb

from etl import db
from etl.errors import ConfigError, QualityGateFailed, TerminalError
from etl.settings import PROJECT_ROOT, Settings, get_settings

log = logging.getLogger(__name__)

CHECKS_DIR = PROJECT_ROOT / "checks"
SODA_GLOBAL_CONFIG = CHECKS_DIR / "soda_config.yml"
DATA_SOURCE = "video_analytics"
LAYERS = ("bronze", "silver", "gold")
SAMPLE_LIMIT = 20
# What an outcome earns towards the score.
CREDIT = {"pass": 1.0, "warn": 0.5, "fail": 0.0}


class QualityScanError(TerminalError):
    """Soda could not run the checks of a layer (no score was published)."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check in one scan."""

    name: str
    table: str
    outcome: str  # pass | warn | fail | error
    value: float | None
    critical: bool
    weight: float
    dimension: str | None
    thresholds: str
    failed_rows: tuple[dict, ...] = ()


@dataclass
class LayerResult:
    """Everything one scan of a layer measured."""

    layer: str
    run_id: str
    score: float | None
    counts: dict[str, int]
    checks: list[CheckResult] = field(default_factory=list)
    measured_at: datetime | None = None

    @property
    def critical_failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.critical and c.outcome in ("fail", "error")]

    @property
    def failing(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome != "pass"]

    def format(self) -> str:
        """A readable report: the score, the counts and every check that did not pass."""
        score = "n/a" if self.score is None else f"{self.score:.1f}"
        c = self.counts
        lines = [
            f"{self.layer}: score {score}/100 ({c['pass']} pass, {c['warn']} warn, "
            f"{c['fail']} fail, {c['error']} error of {c['total']} checks; run {self.run_id})"
        ]
        for check in sorted(self.failing, key=lambda x: (not x.critical, x.table, x.name)):
            flag = "CRITICAL " if check.critical else ""
            value = "" if check.value is None else f" (measured {_number(check.value)})"
            lines.append(f"  {flag}{check.outcome.upper()} {check.table}: {check.name}{value}")
        return "\n".join(lines)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# ------------------------------------------------------------------ Soda plumbing

def _scan_class():
    """Soda's Scan, imported only after its global settings point at our offline file."""
    from soda.common.config_helper import ConfigHelper

    # The first get_instance() decides which settings file Soda reads; ours says
    # send_anonymous_usage_stats: false and already holds every key, so Soda writes nothing.
    ConfigHelper.get_instance(str(SODA_GLOBAL_CONFIG))
    from soda.scan import Scan
    from soda.telemetry.soda_telemetry import SodaTelemetry

    # Belt and braces when another import initialised Soda first (from ~/.soda).
    SodaTelemetry.get_instance()._SodaTelemetry__send = False
    return Scan


def _sampler_class():
    from soda.sampler.sample_ref import SampleRef
    from soda.sampler.sampler import Sampler

    class CapturedSampleRef(SampleRef):
        """A sample kept in memory: the first failed rows, as dicts."""

        def __init__(self, rows: list[dict], **kwargs):
            super().__init__(**kwargs)
            self.rows = rows

    class CapturingSampler(Sampler):
        """Keeps at most `limit` failed rows per query, for ops.dq_failed_rows."""

        def __init__(self, limit: int):
            self.limit = limit

        def store_sample(self, sample_context):
            sample = sample_context.sample
            schema = sample.get_schema()
            names = [col.name for col in schema.columns]
            rows = [dict(zip(names, row)) for row in list(sample.get_rows())[: self.limit]]
            return CapturedSampleRef(
                rows=rows,
                name=sample_context.sample_name,
                schema=schema,
                total_row_count=sample.get_rows_count(),
                stored_row_count=len(rows),
                type=SampleRef.TYPE_NOT_PERSISTED,
                message="kept in ops.dq_failed_rows",
            )

    return CapturingSampler


def _configuration_yaml(settings: Settings) -> str:
    """The data source for a scan, from the settings (which also read .env files)."""
    properties = {
        "type": "postgres",
        "host": settings.postgres_host,
        "port": settings.postgres_port,
        "database": settings.postgres_db,
        "username": settings.postgres_user,
        "password": settings.postgres_password_value or None,
        "connection_timeout": 10,
    }
    text = json.dumps({f"data_source {DATA_SOURCE}": properties})  # JSON is YAML
    # Soda renders configuration text with Jinja (`${...}`) whenever it holds a `$`.
    return "{% raw %}" + text + "{% endraw %}" if "$" in text else text


def check_files(layer: str, tables: list[str] | None = None) -> list[Path]:
    """The checks files of a layer, optionally restricted to `<layer>.<table>` names."""
    if layer not in LAYERS:
        raise ConfigError(f"unknown layer {layer!r}: use one of {', '.join(LAYERS)}")
    files = sorted((CHECKS_DIR / layer).glob("*.yml"))
    if tables is not None:
        wanted = set(tables)
        known = {f"{layer}.{f.stem}" for f in files}
        unknown = sorted(wanted - known)
        if unknown:
            raise ConfigError(
                f"no checks file for {', '.join(unknown)} in checks/{layer}/ "
                f"(known: {', '.join(sorted(known))})"
            )
        files = [f for f in files if f"{layer}.{f.stem}" in wanted]
    if not files:
        raise ConfigError(f"no checks files in {CHECKS_DIR / layer}")
    return files


def _truthy(value) -> bool:
    return value is True or str(value).strip().lower() in ("true", "yes", "1")


def _thresholds(check) -> str:
    cfg = check.check_cfg
    parts = [cfg.source_line]
    source = cfg.source_configurations if isinstance(cfg.source_configurations, dict) else {}
    for level in ("warn", "fail"):
        if source.get(level) is not None:
            parts.append(f"{level}: {source[level]}")
    if cfg.source_line == "failed rows" and len(parts) == 1:
        parts.append("fail: when > 0")
    return "; ".join(str(p) for p in parts)


def _result(check) -> CheckResult:
    from soda.execution.partition import Partition

    attributes = check.attributes or {}
    outcome = check.outcome.value if check.outcome is not None else "error"
    value = getattr(check, "check_value", None)
    try:
        value = None if value is None else float(value)
    except (TypeError, ValueError):
        value = None
    sample = getattr(check, "failed_rows_sample_ref", None)
    rows = tuple(getattr(sample, "rows", ()) or ()) if outcome in ("fail", "warn") else ()
    return CheckResult(
        name=check.name,
        table=str(Partition.get_table_name(check.partition) or ""),
        outcome=outcome,
        value=value,
        critical=_truthy(attributes.get("critical", False)),
        weight=float(attributes.get("weight", 1)),
        dimension=attributes.get("dimension"),
        thresholds=_thresholds(check),
        failed_rows=rows[:SAMPLE_LIMIT],
    )


def _scan(layer: str, files: list[Path], settings: Settings) -> tuple[list[CheckResult], str | None]:
    """Run Soda over the files; returns the check results and the error text (None if clean)."""
    Scan = _scan_class()
    scan = Scan()
    scan.set_data_source_name(DATA_SOURCE)
    scan.set_scan_definition_name(f"medallion_{layer}")
    scan.add_configuration_yaml_str(_configuration_yaml(settings), file_path="etl.quality settings")
    for path in files:
        scan.add_sodacl_yaml_file(str(path))
    scan.sampler = _sampler_class()(SAMPLE_LIMIT)
    soda_log = logging.getLogger("soda")
    level = soda_log.level
    if not log.isEnabledFor(logging.DEBUG):
        # Soda logs every error twice with its SQL; ours is the short reason we raise.
        soda_log.setLevel(logging.CRITICAL)
    try:
        exit_code = scan.execute()
    finally:
        soda_log.setLevel(level)
        # Soda 3.5 leaves its data-source connections open and idle in transaction,
        # holding locks that block the next transform's DDL; close them ourselves.
        for data_source in scan._data_source_manager.data_sources.values():
            data_source.disconnect()
    results = [_result(check) for check in scan._checks if check.archetype is None]
    error = None
    if scan.has_error_logs() or exit_code == 3:
        log.debug("soda errors:\n%s", scan.get_error_logs_text())
        error = _error_summary([log_.message for log_ in scan.get_error_logs()]) or (
            f"soda exited with code {exit_code}"
        )
    return results, error


def _error_summary(messages: list[str], keep: int = 3) -> str:
    """Soda's error logs in a few lines: first line of each, causes before consequences."""
    firsts: list[str] = []
    for message in messages:
        line = str(message).strip().splitlines()[0] if str(message).strip() else ""
        line = re.sub(r"^Query execution error in \d+\.[a-z_0-9]+\.", "query ", line)
        if line and line not in firsts:
            firsts.append(line)
    causes = [m for m in firsts if "were not computed" not in m] or firsts
    more = len(causes) - keep
    return "; ".join(causes[:keep]) + (f" (and {more} more)" if more > 0 else "")


# ------------------------------------------------------------------ scoring and persistence

def score(checks) -> float | None:
    """100 × Σ weight × credit / Σ weight over evaluated checks (pass 1, warn 0.5, fail 0)."""
    evaluated = [c for c in checks if c.outcome in CREDIT]
    total = sum(c.weight for c in evaluated)
    if total <= 0:
        return None
    return 100.0 * sum(c.weight * CREDIT[c.outcome] for c in evaluated) / total


def count_outcomes(checks) -> dict[str, int]:
    """How many checks had each outcome, and the total."""
    counts = {"total": len(checks), "pass": 0, "warn": 0, "fail": 0, "error": 0}
    for c in checks:
        counts[c.outcome] += 1
    return counts


def _json_row(row: dict) -> Jsonb:
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


def _persist(result: LayerResult, tables: list[str], publish_score: bool,
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
                    (result_id, number, _json_row(row)),
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


def new_run_id() -> str:
    """A run id for scans not started by a pipeline run."""
    return f"check-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


# ------------------------------------------------------------------ public API

def run_checks(layer: str, *, run_id: str | None = None, tables: list[str] | None = None,
               gate: bool = False, settings: Settings | None = None) -> LayerResult:
    """Scan one layer (optionally only some `<layer>.<table>`s), persist results and score.

    Raises QualityScanError (no score published) when Soda could not run the checks, and,
    with `gate=True`, QualityGateFailed after persisting when a critical check failed.
    """
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    files = check_files(layer, tables)
    scanned_tables = [f"{layer}.{f.stem}" for f in files]
    log.info("running %s quality checks (%d tables) for run %s", layer, len(files), run_id)

    checks, error = _scan(layer, files, settings)
    result = LayerResult(
        layer=layer,
        run_id=run_id,
        score=None if error else score(checks),
        counts=count_outcomes(checks),
        checks=checks,
        measured_at=datetime.now(timezone.utc),
    )
    if not error and result.score is None:
        error = "no check was evaluated"
    published = _persist(result, scanned_tables, publish_score=error is None, settings=settings)
    if published is not None:
        result.score, result.counts = published

    if error:
        raise QualityScanError(
            f"the {layer} quality scan could not run, so no score was published: {error}"
        )
    log.info("%s quality score %.1f: %s", layer, result.score, result.counts)
    if gate and result.critical_failures:
        raise QualityGateFailed(_gate_message(result))
    return result


def _gate_message(result: LayerResult) -> str:
    names = "; ".join(
        f"{c.table}: {c.name}" + ("" if c.value is None else f" (measured {_number(c.value)})")
        for c in result.critical_failures
    )
    return (
        f"{len(result.critical_failures)} critical {result.layer} check(s) failed: {names}. "
        f"The next layer was not built. Details: ops.dq_check_results and ops.dq_failed_rows "
        f"for run {result.run_id}, or `medallion check --layer {result.layer}`."
    )


def main(args) -> int:
    """`medallion check [--layer L]`: scan the layers, print each score and failing check.

    Exits 0 when no critical check failed, 1 when one did, 2 when a scan could not run.
    """
    layers = [args.layer] if getattr(args, "layer", None) else list(LAYERS)
    run_id = new_run_id()
    results, errors = [], []
    for layer in layers:
        try:
            result = run_checks(layer, run_id=run_id)
        except QualityScanError as exc:
            errors.append(exc)
            print(f"{layer}: no score: {exc}", file=sys.stderr)
            continue
        results.append(result)
        print(result.format())
    if errors:
        return 2
    return 1 if any(r.critical_failures for r in results) else 0
