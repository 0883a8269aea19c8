"""The lineage graph is built from the project's files (models, assets, checks, DAGs)."""

from __future__ import annotations

import shutil
from pathlib import Path

from etl import lineage
from etl.settings import PROJECT_ROOT


def test_graph_of_the_project():
    graph = lineage.build()
    assert {n.node_id for n in graph.of_kind("raw")} == {
        "raw:users", "raw:viewing_sessions", "raw:content"}
    assert "content*.jsonl.gz" in graph.nodes["raw:content"].detail
    assert graph.upstream("bronze.users") == ["raw:users"]
    assert graph.upstream("mongo:bronze_content_json") == ["raw:content"]
    assert graph.upstream("silver.users") == ["bronze.users"]
    assert graph.upstream("silver.content_genres") == ["bronze.content"]
    assert set(graph.upstream("gold.fact_viewing")) >= {"silver.viewing_sessions",
                                                        "silver.content_genres"}
    # kpi_summary is derived from the small per-user and per-content totals (incremental gold)
    assert graph.upstream("gold.kpi_summary") == ["gold.content_performance_totals",
                                                  "gold.user_engagement", "gold.user_engagement_totals"]
    assert graph.nodes["silver.users_rejected"].model == "silver.users"
    assert graph.built_by["raw:users"] == "dag_2_data_ingesters"
    assert graph.built_by["bronze.users"] == "dag_3_data_transformer_bronze"
    assert graph.built_by["mongo:bronze_content_json"] == "dag_3_data_transformer_bronze_json"
    assert graph.built_by["silver.users"] == graph.built_by["gold.kpi_summary"] == \
        "dag_4_data_transformer_silver"
    checks = graph.nodes["checks:gold.kpi_summary"]
    assert checks.checks >= 4 and checks.detail == "checks/gold/kpi_summary.yml"
    assert graph.downstream("gold.kpi_summary") == ["checks:gold.kpi_summary"]


def test_every_model_and_checks_file_is_a_node():
    graph = lineage.build()
    for path in (PROJECT_ROOT / "sql").glob("*/*.sql"):
        if path.parent.name in ("silver", "gold"):
            assert f"{path.parent.name}.{path.stem}" in graph.nodes
    for path in (PROJECT_ROOT / "checks").glob("*/*.yml"):
        assert f"checks:{path.parent.name}.{path.stem}" in graph.nodes


def _copy_project(tmp_path: Path) -> Path:
    for folder in ("sql", "checks", "dags"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    return tmp_path


def test_a_new_model_and_checks_file_appear_without_code_changes(tmp_path):
    root = _copy_project(tmp_path)
    (root / "sql" / "gold" / "top_users.sql").write_text(
        "-- gold.top_users: the heaviest viewers\n-- depends_on: gold.user_engagement\n"
        "truncate gold.top_users;\ninsert into gold.top_users select * from gold.user_engagement;\n")
    (root / "checks" / "gold" / "top_users.yml").write_text(
        "checks for gold.top_users:\n  - row_count > 0:\n      name: gold.top_users has rows\n")
    graph = lineage.build(root)
    assert graph.upstream("gold.top_users") == ["gold.user_engagement"]
    assert graph.downstream("gold.top_users") == ["checks:gold.top_users"]
    assert graph.nodes["checks:gold.top_users"].label == "1 checks"
    assert graph.built_by["gold.top_users"] == "dag_4_data_transformer_silver"


def test_assets_are_read_as_source_without_airflow(tmp_path):
    path = tmp_path / "assets.py"
    path.write_text('from airflow.sdk import Asset\n'
                    'A = Asset(name="raw.x", uri="m://x", extra={"entities": ["x"]})\n'
                    'B = Asset("bronze.x", extra={"tables": ["bronze.x"], "mongo": ["x_json"]})\n'
                    'NAMES = ["bronze.x"]\n')
    found = lineage.read_assets(path)
    assert found["A"].name == "raw.x" and found["A"].extra == {"entities": ["x"]}
    assert found["B"].extra["mongo"] == ["x_json"]
    assert "NAMES" not in found


def test_bronze_reads_ignore_comments():
    sql = "-- from bronze.old\nselect * from bronze.users join bronze.content using (id)"
    assert lineage.bronze_reads(sql) == {"bronze.users", "bronze.content"}


def test_dot_has_clusters_notes_states_and_the_selection():
    graph = lineage.build()
    dot = lineage.to_dot(graph, notes={"gold.kpi_summary": ["4.94M rows", "built 2 h ago"]},
                         states={"checks:gold.kpi_summary": "fail"}, selected="gold.kpi_summary")
    assert dot.startswith("digraph lineage {") and dot.rstrip().endswith("}")
    for cluster in ("cluster_raw", "cluster_bronze", "cluster_silver", "cluster_gold"):
        assert cluster in dot
    assert '"gold.kpi_summary\\n4.94M rows\\nbuilt 2 h ago"' in dot
    assert 'penwidth=3' in dot
    assert f'fillcolor="{lineage.STATE_COLORS["fail"]}"' in dot
    assert dot.count("->") == len(graph.edges)
