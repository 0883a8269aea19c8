"""Every page on a real database with the console dataset; Airflow faked."""

import pytest

from tests.support.console_helpers import PAGES, no_exception, texts


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_renders_without_exception(name, loaded_db, fake_airflow, open_page):
    at = open_page(name)
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value


def test_overview(loaded_db, fake_airflow, open_page):
    at = open_page("overview")
    no_exception(at)
    metrics = {m.label: m for m in at.metric}
    assert metrics["Gold quality score"].value == "100.0"
    silver = metrics["Silver quality score"]
    assert silver.value == "90.0" and float(silver.delta) == pytest.approx(-2.0)
    assert metrics["Rows in bronze"].value == "81"  # 9 + 6 + 66 in the latest accounting
    assert metrics["Rows in silver"].value == "72"
    assert metrics["Rows in gold"].value == "158"  # run-3 skipped gold: run-2's builds count
    assert metrics["Latency (last run)"].value == "6 min 20 s"
    body = texts(at)
    health = at.dataframe[0].value
    assert list(health["dag_id"]) == sorted(health["dag_id"])
    assert "❌ failed" in set(health["last run"])
    attention = at.dataframe[1].value
    kinds = set(attention["kind"])
    assert {"❌ failed run", "🛑 critical check failing", "📄 rejected file"} <= kinds
    assert "broken/content_bad.json" in set(attention["what"])
    assert "Airflow unavailable" not in body
