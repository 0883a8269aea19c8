"""What one scan of a layer measured, and its readable report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
            value = "" if check.value is None else f" (measured {number(check.value)})"
            lines.append(f"  {flag}{check.outcome.upper()} {check.table}: {check.name}{value}")
        return "\n".join(lines)


def number(value: float) -> str:
    """A measured value as people write it: 3, not 3.0."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
