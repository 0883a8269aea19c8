"""The robust baseline and the judging of series, offline: spikes and drops are flagged,
slow drift and steady noise are not."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from etl.observability.anomalies import Point, judge
from etl.observability.baseline import robust_baseline
from etl.settings import Settings

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
SETTINGS = Settings(anomaly_window_runs=20, anomaly_mad_k=5, anomaly_min_history_runs=5,
                    anomaly_min_relative_deviation=0.1, anomaly_min_absolute_deviation=5,
                    anomaly_min_score_deviation=2)


def _series(values, subject="silver.users", metric="rows_written", layer="silver", reason=""):
    return [Point(layer, subject, metric, reason, f"run-{i:03d}", T0 + timedelta(hours=i), float(v))
            for i, v in enumerate(values)]


def _noisy(n, center=1000.0, spread=0.02, seed=7):
    rng = random.Random(seed)
    return [center * (1 + rng.uniform(-spread, spread)) for _ in range(n)]


def test_median_and_mad_ignore_one_outlier():
    b = robust_baseline([10, 11, 9, 10, 1000], k=3)
    assert b.median == 10 and b.mad == 1
    assert (b.lower, b.upper) == (7, 13)


def test_a_steady_history_gets_the_floor_not_a_zero_width_band():
    b = robust_baseline([500] * 10, k=5, min_relative=0.1, min_absolute=5)
    assert b.mad == 0 and (b.lower, b.upper) == (450, 550)
    assert b.direction(549) is None and b.direction(551) == "above" and b.direction(449) == "below"
    tiny = robust_baseline([0] * 10, k=5, min_relative=0.1, min_absolute=5)
    assert (tiny.lower, tiny.upper) == (-5, 5)


def test_an_empty_history_has_no_baseline():
    with pytest.raises(ValueError):
        robust_baseline([], k=5)


def test_a_spike_is_flagged_above():
    (finding,) = judge(_series([*_noisy(25), 3000]), SETTINGS)
    assert finding.direction == "above" and finding.point.value == 3000
    assert finding.baseline.runs == 20


def test_a_drop_to_zero_is_flagged_below():
    (finding,) = judge(_series([*_noisy(25), 0]), SETTINGS)
    assert finding.direction == "below"


@pytest.mark.parametrize("rate", [0.01, -0.01, 0.02])
def test_slow_drift_is_never_flagged(rate):
    values = [1000 * (1 + rate) ** i for i in range(31)]
    points = _series(values)
    for point in points:
        found = judge(points, SETTINGS, run_id=point.run_id)
        assert all(f.direction is None for f in found), (point, found)


def test_steady_noise_is_never_flagged():
    points = _series(_noisy(60, spread=0.05, seed=3))
    flagged = [p.run_id for p in points
               if any(f.direction for f in judge(points, SETTINGS, run_id=p.run_id))]
    assert flagged == []


def test_too_little_history_is_not_judged():
    assert judge(_series([1000, 1000, 1000, 1000, 0]), SETTINGS) == []
    assert len(judge(_series([1000] * 5 + [0]), SETTINGS)) == 1


def test_only_the_worrying_side_counts_for_rejects_and_scores():
    fewer_rejects = _series([100] * 10 + [0], metric="rejected_rows", reason="orphan_user")
    better_score = _series([80] * 10 + [100], subject="silver", metric="quality_score")
    worse_score = _series([99] * 10 + [90], subject="silver", metric="quality_score")
    assert judge(fewer_rejects, SETTINGS)[0].direction is None
    assert judge(better_score, SETTINGS)[0].direction is None
    assert judge(worse_score, SETTINGS)[0].direction == "below"


def test_a_quality_score_uses_its_own_floor_in_points():
    # 100 every run: MAD 0; no 10 % floor on a 0..100 scale, the 2-point floor applies
    (small,) = judge(_series([100] * 10 + [98.5], subject="gold", metric="quality_score"), SETTINGS)
    (fall,) = judge(_series([100] * 10 + [97], subject="gold", metric="quality_score"), SETTINGS)
    assert small.direction is None and fall.direction == "below"
    assert (fall.baseline.lower, fall.baseline.upper) == (98, 102)


def test_the_target_run_is_judged_against_the_runs_before_it_only():
    points = _series([*_noisy(25), 3000, *_noisy(5, seed=9)])
    (at_spike,) = judge(points, SETTINGS, run_id="run-025")
    (latest,) = judge(points, SETTINGS)
    assert at_spike.direction == "above" and latest.direction is None
    assert judge(points, SETTINGS, run_id="no-such-run") == []
