"""Data quality, volumes and gold KPI pages: numbers from the dataset, filters that filter."""

import datetime as dt

import pytest

from tests.support import console_testdata as dataset
from tests.support.console_helpers import no_exception, texts


def metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def test_gold_tiles_come_from_kpi_summary(loaded_db, fake_airflow, open_page):
    at = open_page("gold_kpis")
    no_exception(at)
    tiles = metrics(at)
    assert tiles["Users"] == "7"
    assert tiles["Sessions"] == "60"
    hours = sum(r[6] for r in dataset.fact_rows()) / 3600
    assert tiles["Watch hours"] == f"{hours:,.0f}"
    assert "filtered" not in texts(at)


def test_gold_filters_narrow_every_view(loaded_db, fake_airflow, open_page):
    at = open_page("gold_kpis")
    at.multiselect(key="kpi_country").select("DE").run()
    no_exception(at)
    rows = [r for r in dataset.fact_rows() if r[9] == "DE"]
    tiles = metrics(at)
    assert tiles["Sessions"] == str(len(rows))
    assert tiles["Users"] == "2"
    assert "filtered" in texts(at)
    at.session_state["kpi_tab"] = "Countries"  # a click on the tab
    at.run()
    countries = next(df.value for df in at.dataframe if "country" in df.value.columns)
    assert list(countries["country"]) == ["DE"]
    at.multiselect(key="kpi_device").select("tv").run()
    tv = [r for r in rows if r[5] == "tv"]
    assert metrics(at)["Sessions"] == str(len(tv))


def test_gold_unknown_country_and_tier_and_dates(loaded_db, fake_airflow, open_page):
    at = open_page("gold_kpis")
    at.multiselect(key="kpi_country").select("unknown").run()
    no_exception(at)
    assert metrics(at)["Sessions"] == str(sum(1 for r in dataset.fact_rows() if r[9] is None))
    at.multiselect(key="kpi_country").unselect("unknown").run()
    at.multiselect(key="kpi_tier").select("premium").run()
    assert metrics(at)["Sessions"] == str(sum(1 for r in dataset.fact_rows() if r[10] == "premium"))
    at.multiselect(key="kpi_tier").unselect("premium").run()
    day = dataset.BASE.date()
    at.date_input(key="kpi_dates").set_value((day, day + dt.timedelta(days=1))).run()
    no_exception(at)
    expected = sum(1 for r in dataset.fact_rows() if r[4] <= day + dt.timedelta(days=1))
    assert metrics(at)["Sessions"] == str(expected)


def test_gold_page_runs_only_the_open_tab(loaded_db, fake_airflow, open_page):
    """The first render draws the daily chart and the open tab's two charts; the hidden tabs'
    queries do not run (their data is not on the page) until their tab is opened."""
    at = open_page("gold_kpis")
    no_exception(at)
    assert len(at.get("plotly_chart")) == 3
    assert not any("country" in df.value.columns for df in at.dataframe)
    at.session_state["kpi_tab"] = "Genres & segments"
    at.run()
    no_exception(at)
    assert len(at.get("plotly_chart")) == 3  # daily, genres, segments
    assert "Segments follow the country and tier filters." in texts(at)


def test_gold_page_on_empty_gold(medallion_db, fake_airflow, open_page):
    at = open_page("gold_kpis")
    no_exception(at)
    assert "Gold is empty" in texts(at)


@pytest.mark.parametrize("name", ["overview", "pipelines", "data_quality", "volumes"])
def test_pages_on_an_empty_database(name, medallion_db, fake_airflow, open_page):
    at = open_page(name)
    no_exception(at)
    assert not at.error, [e.value for e in at.error]


def test_data_quality_page(loaded_db, fake_airflow, open_page):
    at = open_page("data_quality")
    no_exception(at)
    assert metrics(at)["Silver score"] == "90.0"
    results = at.dataframe[0].value
    assert len(results) == 3
    # failing checks are offered first, and their failed-row samples are shown
    assert at.selectbox(key="dq_check").value == "silver.viewing_sessions · session_id is unique"
    samples = at.dataframe[-1].value
    assert list(samples["session_id"]) == ["s001", "s001"]
    history = at.dataframe[1].value
    assert list(history["outcome"]) == ["❌ fail", "✅ pass", "✅ pass"]
    at.multiselect(key="dq_outcome").select("warn").run()
    no_exception(at)
    filtered = at.dataframe[0].value
    assert list(filtered["check_name"]) == ["email is valid"]
    assert at.selectbox(key="dq_check").value == "silver.users · email is valid"
    assert "No failed-row sample" in texts(at)


def test_volumes_page(loaded_db, fake_airflow, open_page):
    at = open_page("volumes")
    no_exception(at)
    # Only the open tab ran: rows per layer, not the ingestion log.
    assert not any("source_file" in df.value.columns for df in at.dataframe)
    at.session_state["volumes_tab"] = "Ingestion log"
    at.run()
    files = next(df.value for df in at.dataframe if "source_file" in df.value.columns)
    assert "❌ rejected" in set(files["status"])
    at.multiselect(key="ingestion_status").select("rejected").run()
    files = next(df.value for df in at.dataframe if "source_file" in df.value.columns)
    assert list(files["source_file"]) == ["broken/content_bad.json"]
    assert "truncated JSON" in files["error"].iloc[0]
    at.session_state["volumes_tab"] = "Accounting funnel"
    at.run()
    summary = next(df.value for df in at.dataframe if "entity" in df.value.columns
                   and "bronze_rows" in df.value.columns)
    assert set(summary["bronze = silver + superseded + rejected"]) == {"✅ holds"}
    at.session_state["volumes_tab"] = "Latency & stage times"
    at.run()
    assert at.selectbox(key="model_run").value == "run-3"
    models = next(df.value for df in at.dataframe if "rows changed" in df.value.columns)
    assert set(models["mode"]) == {"incremental"}  # run-3's models (run-1 was a full refresh)
    assert models["rows read"].tolist() == [7 * (i + 1) for i in range(len(models))]


def test_filter_values_are_bound_not_spliced(loaded_db):
    from console.data import gold, reader

    first, last = gold.date_bounds()
    hostile = "DE') or 1=1; drop table gold.kpi_summary; --"
    flt = gold.KpiFilter(first, last, countries=(hostile,), tiers=("premium' --",),
                         first_date=first, last_date=last)
    assert gold.kpi_tiles(flt)["sessions"] == 0
    assert gold.daily_viewing(flt).empty
    assert gold.user_segments(flt).empty
    reader.clear_caches()
    assert gold.kpi_tiles()["sessions"] == 60  # gold.kpi_summary is still there


def test_missing_console_table_says_run_init(loaded_db):
    import psycopg

    from console.data import audit, reader

    with psycopg.connect(**loaded_db.libpq_kwargs(), autocommit=True) as conn:
        conn.execute("drop table ops.console_audit")
    with pytest.raises(reader.DataUnavailable, match="medallion init"):
        audit.recent_actions()
