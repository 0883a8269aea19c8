"""etl.quality.scoring, results and gate without a database: the score formula, reports,
the gate's message."""

from __future__ import annotations

import pytest

from etl import quality
from etl.quality import CheckResult, LayerResult
from etl.quality.gate import gate_message


def _check(outcome: str, weight: float = 1, critical: bool = False, name: str = "a check",
           value: float | None = 0) -> CheckResult:
    return CheckResult(name=name, table="silver.users", outcome=outcome, value=value,
                       critical=critical, weight=weight, dimension="validity", thresholds="x = 0")


@pytest.mark.parametrize("outcomes, expected", [
    ([("pass", 1)], 100.0),
    ([("fail", 1)], 0.0),
    ([("warn", 1)], 50.0),
    ([("pass", 3), ("fail", 1)], 75.0),
    ([("pass", 1), ("warn", 2), ("fail", 1)], 100 * (1 + 1) / 4),
    ([("pass", 2), ("error", 5)], 100.0),  # errors are not scored (and publish no score)
])
def test_score_is_the_weighted_formula(outcomes, expected):
    checks = [_check(outcome, weight) for outcome, weight in outcomes]
    assert quality.score(checks) == pytest.approx(expected)


def test_score_of_nothing_evaluated_is_none():
    assert quality.score([]) is None
    assert quality.score([_check("error")]) is None


def test_a_failure_costs_exactly_its_weight():
    checks = [_check("pass", 1), _check("pass", 3), _check("pass", 2)]
    before = quality.score(checks)
    after = quality.score([_check("pass", 1), _check("fail", 3), _check("pass", 2)])
    assert before - after == pytest.approx(100 * 3 / 6)


def test_counts():
    checks = [_check("pass"), _check("pass"), _check("warn"), _check("fail"), _check("error")]
    assert quality.count_outcomes(checks) == {"total": 5, "pass": 2, "warn": 1, "fail": 1,
                                              "error": 1}


def test_layer_result_reports_critical_failures_first():
    checks = [_check("pass", name="fine"), _check("warn", name="a warning", value=2),
              _check("fail", 3, critical=True, name="keys are unique", value=1)]
    result = LayerResult("silver", "r1", quality.score(checks), quality.count_outcomes(checks),
                         checks)
    assert result.critical_failures == [checks[2]]
    text = result.format()
    lines = text.splitlines()
    assert lines[0].startswith("silver: score 30.0/100 (1 pass, 1 warn, 1 fail, 0 error of 3")
    assert lines[1] == "  CRITICAL FAIL silver.users: keys are unique (measured 1)"
    assert lines[2] == "  WARN silver.users: a warning (measured 2)"
    assert "fine" not in text


def test_gate_message_names_the_failing_checks_and_where_to_look():
    checks = [_check("fail", 3, critical=True, name="keys are unique", value=2)]
    result = LayerResult("silver", "run-7", 0.0, quality.count_outcomes(checks), checks)
    message = gate_message(result)
    assert "1 critical silver check(s) failed: silver.users: keys are unique (measured 2)" in message
    assert "run-7" in message and "not built" in message
