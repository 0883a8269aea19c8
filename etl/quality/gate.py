"""The quality gate: scan a layer, store and score it, stop the chain on a critical failure;
and `medallion check`."""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone

from etl import runs
from etl.errors import QualityGateFailed
from etl.quality import store
from etl.quality.results import LayerResult, number
from etl.quality.scan import LAYERS, QualityScanError, check_files, scan
from etl.quality.scoring import count_outcomes, score
from etl.settings import Settings, get_settings

log = logging.getLogger(__name__)


def new_run_id() -> str:
    """A run id for scans not started by a pipeline run (the one format: etl.runs.new_run_id)."""
    return runs.new_run_id("check")


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

    checks, error = scan(layer, files, settings)
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
    published = store.persist(result, scanned_tables, publish_score=error is None,
                              settings=settings)
    if published is not None:
        result.score, result.counts = published

    if error:
        raise QualityScanError(
            f"the {layer} quality scan could not run, so no score was published: {error}"
        )
    log.info("%s quality score %.1f: %s", layer, result.score, result.counts)
    if gate and result.critical_failures:
        raise QualityGateFailed(gate_message(result))
    return result


def gate_message(result: LayerResult) -> str:
    """Why the next layer was not built, and where to look."""
    names = "; ".join(
        f"{c.table}: {c.name}" + ("" if c.value is None else f" (measured {number(c.value)})")
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
