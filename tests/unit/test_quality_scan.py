"""etl.quality.scan without a database: file selection, the data source, error summaries."""

from __future__ import annotations

import json

import pytest

from etl.errors import ConfigError
from etl.quality import scan
from etl.settings import Settings


def test_check_files_of_a_layer_and_a_subset():
    every = scan.check_files("bronze")
    assert {p.stem for p in every} == {"users", "viewing_sessions", "content"}
    subset = scan.check_files("bronze", ["bronze.users"])
    assert [p.stem for p in subset] == ["users"]


@pytest.mark.parametrize("layer, tables", [("platinum", None), ("silver", ["gold.kpi_summary"]),
                                           ("silver", ["silver.nope"])])
def test_check_files_refuse_what_does_not_exist(layer, tables):
    with pytest.raises(ConfigError):
        scan.check_files(layer, tables)


def test_configuration_comes_from_the_settings():
    settings = Settings(postgres_host="db.example", postgres_port=6543, postgres_db="va",
                        postgres_user="etl", postgres_password="")
    config = json.loads(scan.configuration_yaml(settings))
    source = config["data_source video_analytics"]
    assert source == {"type": "postgres", "host": "db.example", "port": 6543, "database": "va",
                      "username": "etl", "password": None, "connection_timeout": 10}


def test_a_dollar_in_the_password_is_not_templated():
    settings = Settings(postgres_password="pa${ss}word")
    text = scan.configuration_yaml(settings)
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
    assert scan.error_summary(messages) == (
        'query gold.kpi_summary.aggregation[0]: relation "gold.kpi_summary" does not exist')
    many = [f"cause {i}" for i in range(5)]
    assert scan.error_summary(many) == "cause 0; cause 1; cause 2 (and 2 more)"
