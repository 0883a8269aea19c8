"""The Lineage page (issue 16 item 3): the graph with rows, ages and outcomes; a node's
checks, runs and builder."""

from __future__ import annotations

from tests.support.console_helpers import no_exception, texts


def _dot(at) -> str:
    [chart] = at.get("graphviz_chart")
    return chart.proto.spec


def test_graph_shows_rows_age_and_check_outcomes(loaded_db, fake_airflow, open_page):
    at = open_page("lineage")
    no_exception(at)
    dot = _dot(at)
    assert '"raw:users" -> "bronze.users"' in dot
    assert '"raw:content" -> "mongo:bronze_content_json"' in dot
    assert '"gold.user_engagement" -> "gold.kpi_summary"' in dot
    # the last successful build: run-3's silver (its gold was skipped), 88 rows
    assert '"silver.viewing_sessions\\n88 rows\\nbuilt ' in dot
    assert '"bronze.viewing_sessions\\n66 rows' in dot  # latest accounting
    assert "❌ 0/1 pass" in dot  # silver.viewing_sessions' failing check
    assert "⏰ older than allowed" in dot  # gold built two days ago, limit 26 h
    assert "not run yet" in dot  # a checks file without results


def test_selecting_a_node_shows_checks_runs_and_builder(loaded_db, fake_airflow, open_page):
    at = open_page("lineage")
    at.selectbox(key="lineage_node").select("silver.viewing_sessions").run()
    no_exception(at)
    shown = texts(at)
    assert "`dag_4_data_transformer_silver`" in shown
    assert "model `silver.viewing_sessions` (sql/silver/viewing_sessions.sql)" in shown
    assert "`bronze.viewing_sessions`" in shown and "`gold.fact_viewing`" in shown
    checks = next(df.value for df in at.dataframe if "check_name" in df.value.columns)
    assert list(checks["check_name"]) == ["session_id is unique"]
    assert list(checks["outcome"]) == ["❌ fail"]
    runs = next(df.value for df in at.dataframe if "full_refresh" in df.value.columns)
    assert list(runs["run_id"]) == ["run-3", "run-2", "run-1"]
    assert "penwidth=3" in _dot(at)


def test_bronze_node_shows_its_files(loaded_db, fake_airflow, open_page):
    at = open_page("lineage")
    at.selectbox(key="lineage_node").select("bronze.users").run()
    no_exception(at)
    assert "`dag_3_data_transformer_bronze`" in texts(at)
    files = next(df.value for df in at.dataframe if "source_file" in df.value.columns)
    assert set(files["source_file"]) == {"users.csv", "users_copy.csv"}
