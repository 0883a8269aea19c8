"""etl.quality without a database: the score formula, reports, file selection, configuration."""

from __future__ import annotations

import json

import pytest

from etl import quality
from etl.errors import ConfigError
from etl.quality import CheckResult, LayerResult
from etl.settings import Settings


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
    message = quality._gate_message(result)
    assert "1 critical silver check(s) failed: silver.users: keys are unique (measured 2)" in message
    assert "run-7" in message and "not built" in message


def test_check_files_of_a_layer_and_a_subset():
    every = quality.check_files("bronze")
    assert {p.stem for p in every} == {"users", "viewing_sessions", "content"}
    subset = quality.check_files("bronze", ["bronze.users"])
    assert [p.stem for p in subset] == ["users"]


@pytest.mark.parametrize("layer, tables", [("platinum", None), ("silver", ["gold.kpi_summary"]),
                                           ("silver", ["silver.nope"])])
def test_check_files_refuse_what_does_not_exist(layer, tables):
    with pytest.raises(ConfigError):
        quality.check_files(layer, tables)


def test_configuration_comes_from_the_settings():
    settings = Settings(postgres_host="db.example", postgres_port=6543, postgres_db="va",
                        postgres_user="etl", postgres_password="")
    config = json.loads(quality._configuration_yaml(settings))
    source = config["data_source video_analytics"]
    assert source == {"type": "postgres", "host": "db.example", "port": 6543, "database": "va",
                      "username": "etl", "password": None, "connection_timeout": 10}


def test_a_dollar_in_the_password_is_not_templated():
    settings = Settings(postgres_password="pa${ss}word")
    text = quality._configuration_yaml(settings)
    assert text.startswith("{% raw %}") and text.endswith("{% endraw %}")
    from soda.common.jinja import Jinja

    rendered = json.loads(Jinja.resolve(text))
    assert rendered["data_source video_analytics"]["password"] == "pa${ss}word"


def test_scan_errors_are_summarised_causes_first():
    messages = [
        "Query execution error in 29.video_analytics.gold.kpi_summary.aggregation[0]: "
        'relation "gold.kpi_summary" does not exist\nLINE 3: FROM gold.kpi_summary\n\nSELECT ...',
        "Metrics 'row_count' were not computed for check 'row_count = 1'",
        "Query execution error in 29.video_analytics.gold.kpi_summary.aggregation[0]: "
        'relation "gold.kpi_summary" does not exist\nSELECT again',
    ]
    assert quality._error_summary(messages) == (
        'query gold.kpi_summary.aggregation[0]: relation "gold.kpi_summary" does not exist')
    many = [f"cause {i}" for i in range(5)]
    assert quality._error_summary(many) == "cause 0; cause 1; cause 2 (and 2 more)"


def test_failed_rows_become_json():
    from datetime import date
    from decimal import Decimal

    row = quality._json_row({"d": date(2024, 3, 1), "n": Decimal("1.5"), "x": float("nan"),
                             "i": 3, "s": None})
    assert row.obj == {"d": "2024-03-01", "n": "1.5", "x": "nan", "i": 3, "s": None}
