"""DAG integrity: the five DAGs import cleanly, are wired by assets and follow the house rules."""

from __future__ import annotations

import ast
import logging
import time
from datetime import timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGS_DIR = ROOT / "dags"
DAG_IDS = {
    "dag_1_dw_layers_generator",
    "dag_2_data_ingesters",
    "dag_3_data_transformer_bronze",
    "dag_3_data_transformer_bronze_json",
    "dag_4_data_transformer_silver",
}
# Ours, beside the original chain.
MONITOR_DAG_IDS = {"dag_5_pipeline_monitor"}
log = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def dagbag(request):
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(str(DAGS_DIR))
    elapsed = time.perf_counter() - started
    # Reported, not asserted: a timed assertion would fail on a busy machine.
    message = f"DagBag: {len(bag.dag_ids)} DAG(s) from {DAGS_DIR} parsed in {elapsed:.2f}s"
    log.info(message)
    request.config.medallion_report = [*getattr(request.config, "medallion_report", []), message]
    return bag


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_dag_ids_are_the_original_ones_and_the_monitor(dagbag):
    assert set(dagbag.dag_ids) == DAG_IDS | MONITOR_DAG_IDS


def test_one_dag_per_file_named_after_it(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert Path(dag.fileloc).name == f"{dag_id}.py"


@pytest.mark.parametrize("dag_id", sorted(DAG_IDS | MONITOR_DAG_IDS))
def test_dag_conventions(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert "medallion" in dag.tags
    assert dag.doc_md and dag.doc_md.strip()
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert dag.on_failure_callback and dag.on_success_callback
    for t in dag.tasks:
        assert t.owner == "data-engineering", t.task_id
        assert t.retries == 3, t.task_id
        assert t.retry_exponential_backoff and t.retry_exponential_backoff > 1, t.task_id
        assert t.retry_delay > timedelta(0)
        assert t.on_failure_callback, t.task_id
        assert t.task_id.split("_")[0] in {"create", "ensure", "register", "load", "check", "build",
                                           "record", "watch"}


def test_retry_delay_is_five_minutes_by_default(dagbag, monkeypatch):
    from dags.common.defaults import retry_delay

    monkeypatch.delenv("MEDALLION_RETRY_DELAY_SECONDS", raising=False)
    assert retry_delay() == timedelta(minutes=5)
    monkeypatch.setenv("MEDALLION_RETRY_DELAY_SECONDS", "2")
    assert retry_delay() == timedelta(seconds=2)


def test_params_have_a_form(dagbag):
    ingest = dagbag.dags["dag_2_data_ingesters"].params
    assert "raw_dir" in ingest and ingest.get_param("raw_dir").value is None
    silver = dagbag.dags["dag_4_data_transformer_silver"].params
    assert silver.get_param("full_refresh").value is False
    for param in (ingest.get_param("raw_dir"), silver.get_param("full_refresh")):
        assert param.schema.get("title") and param.description


def _outlets(dag) -> set[str]:
    return {o.name for t in dag.tasks for o in getattr(t, "outlets", []) or []}


def _asset_names(condition) -> set[str]:
    if hasattr(condition, "objects"):  # AssetAll / AssetAny
        return set().union(*(_asset_names(o) for o in condition.objects))
    return {condition.name}


def _inlets(dag) -> set[str]:
    condition = getattr(dag.timetable, "asset_condition", None)
    return _asset_names(condition) if condition is not None else set()


def test_assets_chain_the_dags(dagbag):
    get = dagbag.dags.__getitem__
    assert _outlets(get("dag_2_data_ingesters")) == {"raw.validated_csv_files",
                                                      "raw.validated_json_files"}
    assert _inlets(get("dag_3_data_transformer_bronze")) == {"raw.validated_csv_files"}
    assert _inlets(get("dag_3_data_transformer_bronze_json")) == {"raw.validated_json_files"}
    assert _outlets(get("dag_3_data_transformer_bronze")) == {"bronze.csv_tables"}
    assert _outlets(get("dag_3_data_transformer_bronze_json")) == {"bronze.content"}
    assert _inlets(get("dag_4_data_transformer_silver")) == {"bronze.csv_tables", "bronze.content"}
    assert type(get("dag_1_dw_layers_generator").timetable).__name__ == "NullTimetable"


def test_every_consumed_asset_has_a_producer(dagbag):
    produced = set().union(*(_outlets(d) for d in dagbag.dags.values()))
    consumed = set().union(*(_inlets(d) for d in dagbag.dags.values()))
    assert consumed <= produced
    for name in produced | consumed:
        layer, _, what = name.partition(".")
        assert layer in {"raw", "bronze", "silver", "gold"} and what, name


def test_assets_are_emitted_by_the_last_task(dagbag):
    # Emitted only when the whole run succeeded, and then always (even with nothing new).
    for dag in dagbag.dags.values():
        for t in dag.tasks:
            if getattr(t, "outlets", None):
                assert not t.downstream_list, (dag.dag_id, t.task_id)


def test_silver_gate_stops_gold(dagbag):
    dag = dagbag.dags["dag_4_data_transformer_silver"]
    assert [t.task_id for t in dag.topological_sort()] == [
        "build_silver", "check_silver", "build_gold", "record_kpis", "check_gold"]
    assert dag.get_task("build_gold").trigger_rule == "all_success"


def test_dag_files_stay_thin():
    """No etl import, database, network or Variable at module level of a DAG file."""
    for path in sorted(DAGS_DIR.glob("dag_*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                module = getattr(node, "module", None) or node.names[0].name
                assert not module.startswith("etl"), f"{path.name} imports {module} at module level"
        source = path.read_text()
        assert "Variable.get" not in source and "get_settings" not in source, path.name
        assert "airflow.decorators" not in source and "Dataset" not in source, path.name
        assert "schedule_interval" not in source, path.name


def test_unpausing_dag_2_waits_for_its_next_tick(dagbag):
    """No run for the tick already past: `medallion up` triggers the first run itself."""
    from datetime import datetime, timezone

    from airflow.serialization.serialized_objects import DagSerialization

    dag = dagbag.dags["dag_2_data_ingesters"]
    serialized = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    first = serialized.next_dagrun_info(last_automated_run_info=None)
    assert first is not None and first.run_after > datetime.now(timezone.utc)
