"""A robust baseline for one series of per-run values: median ± k·MAD, with a floor.

Why median and MAD rather than mean and standard deviation: one bad run (a spike or a
drop to zero) in the window would inflate the standard deviation and hide the next
one; the median and the median absolute deviation ignore up to half the window.

Why a floor: a perfectly steady history (the same row count every run) has MAD = 0, and
a band of zero width would flag any change at all, even one row. The band's half-width
is therefore `max(k·MAD, min_relative × |median|, min_absolute)`: for row counts by default
10 % of the median and at least 5 rows; for quality scores (a fixed 0..100 scale, where 10 %
of 99 would hide a fall to 90) only the absolute floor, 2 points.

Slow drift is not flagged by design: a series growing 1 % per run moves its median with
it, and the MAD of a window of N drifting runs (about N/4 steps) times k exceeds the
distance from the window's median to the next value (about N/2 steps) whenever k > 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Sequence


@dataclass(frozen=True)
class Baseline:
    """Median, MAD and the bounds a value must stay within, from `runs` previous values."""

    median: float
    mad: float
    lower: float
    upper: float
    runs: int

    def direction(self, value: float) -> str | None:
        """'above' or 'below' when `value` is outside the bounds, else None."""
        if value > self.upper:
            return "above"
        if value < self.lower:
            return "below"
        return None


def robust_baseline(history: Sequence[float], *, k: float, min_relative: float = 0.0,
                    min_absolute: float = 0.0) -> Baseline:
    """The baseline of `history` (previous values, any order); ValueError when it is empty."""
    if not history:
        raise ValueError("a baseline needs at least one previous value")
    center = float(median(history))
    mad = float(median(abs(v - center) for v in history))
    half_width = max(k * mad, min_relative * abs(center), min_absolute)
    return Baseline(median=center, mad=mad, lower=center - half_width, upper=center + half_width,
                    runs=len(history))
