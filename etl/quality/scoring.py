"""The layer score: 100 × Σ weight × credit / Σ weight over evaluated checks."""

from __future__ import annotations

# What an outcome earns towards the score.
CREDIT = {"pass": 1.0, "warn": 0.5, "fail": 0.0}


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
