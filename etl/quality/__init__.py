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

One job per module:

- `scan`: driving Soda (configuration, the checks files, the Scan, failed-row samples);
- `soda_internals`: the only place that touches Soda's private attributes;
- `results`: what a scan measured (`CheckResult`, `LayerResult`) and its report;
- `scoring`: the score formula and outcome counts;
- `store`: results, samples and scores in `ops.dq_*`;
- `gate`: `run_checks` (scan, store, score, gate) and `medallion check`.
"""

from etl.quality.gate import main, new_run_id, run_checks
from etl.quality.results import CheckResult, LayerResult
from etl.quality.scan import (
    CHECKS_DIR,
    DATA_SOURCE,
    LAYERS,
    SAMPLE_LIMIT,
    QualityScanError,
    check_files,
)
from etl.quality.scoring import CREDIT, count_outcomes, score

__all__ = [
    "CHECKS_DIR", "CREDIT", "DATA_SOURCE", "LAYERS", "SAMPLE_LIMIT", "CheckResult",
    "LayerResult", "QualityScanError", "check_files", "count_outcomes", "main", "new_run_id",
    "run_checks", "score",
]
