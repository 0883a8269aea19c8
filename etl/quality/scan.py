"""Driving Soda: the checks files of a layer, the data source, the Scan and its results.

Soda runs offline: no Soda Cloud section, and its usage statistics are switched off by
pointing its global settings at `checks/soda_config.yml` before Soda is imported.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from etl import LAYERS
from etl.errors import ConfigError, TerminalError
from etl.quality import soda_internals
from etl.quality.results import CheckResult
from etl.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

CHECKS_DIR = PROJECT_ROOT / "checks"
SODA_GLOBAL_CONFIG = CHECKS_DIR / "soda_config.yml"
DATA_SOURCE = "video_analytics"
SAMPLE_LIMIT = 20


class QualityScanError(TerminalError):
    """Soda could not run the checks of a layer (no score was published)."""


def _scan_class():
    """Soda's Scan, imported only after its global settings point at our offline file."""
    from soda.common.config_helper import ConfigHelper

    # The first get_instance() decides which settings file Soda reads; ours says
    # send_anonymous_usage_stats: false and already holds every key, so Soda writes nothing.
    ConfigHelper.get_instance(str(SODA_GLOBAL_CONFIG))
    from soda.scan import Scan

    # Belt and braces when another import initialised Soda first (from ~/.soda).
    soda_internals.silence_telemetry()
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


def configuration_yaml(settings: Settings) -> str:
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


def scan(layer: str, files: list[Path], settings: Settings) -> tuple[list[CheckResult], str | None]:
    """Run Soda over the files; returns the check results and the error text (None if clean)."""
    Scan = _scan_class()
    soda_scan = Scan()
    soda_scan.set_data_source_name(DATA_SOURCE)
    soda_scan.set_scan_definition_name(f"medallion_{layer}")
    soda_scan.add_configuration_yaml_str(configuration_yaml(settings),
                                         file_path="etl.quality settings")
    for path in files:
        soda_scan.add_sodacl_yaml_file(str(path))
    soda_scan.sampler = _sampler_class()(SAMPLE_LIMIT)
    soda_log = logging.getLogger("soda")
    level = soda_log.level
    if not log.isEnabledFor(logging.DEBUG):
        # Soda logs every error twice with its SQL; ours is the short reason we raise.
        soda_log.setLevel(logging.CRITICAL)
    try:
        exit_code = soda_scan.execute()
    finally:
        soda_log.setLevel(level)
        soda_internals.close_connections(soda_scan)
    results = [_result(check) for check in soda_internals.scan_checks(soda_scan)
               if check.archetype is None]
    error = None
    if soda_scan.has_error_logs() or exit_code == 3:
        log.debug("soda errors:\n%s", soda_scan.get_error_logs_text())
        error = error_summary([log_.message for log_ in soda_scan.get_error_logs()]) or (
            f"soda exited with code {exit_code}"
        )
    return results, error


def error_summary(messages: list[str], keep: int = 3) -> str:
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
