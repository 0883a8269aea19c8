"""Run metrics helpers that need no database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from etl import runs


def test_airflow_run_ids_are_unique_per_dag():
    a = runs.airflow_run_id("dag_3_data_transformer_bronze", "asset_triggered__2026-01-01T00:00:00")
    b = runs.airflow_run_id("dag_3_data_transformer_bronze_json", "asset_triggered__2026-01-01T00:00:00")
    assert a != b and a.startswith("dag_3_data_transformer_bronze:")


def test_new_run_ids_differ():
    assert runs.new_run_id() != runs.new_run_id()
    assert runs.new_run_id().startswith("cli:")


@dataclass
class _Ingest:
    rows_loaded: int


@dataclass
class _Transform:
    rows: dict


def test_rows_of_reads_the_reports():
    assert runs.rows_of(_Ingest(12)) == 12
    assert runs.rows_of(_Transform({"silver": {"silver.users": 3, "silver.content": 4}})) == 7
    assert runs.rows_of({"rows": 5}) == 5
    assert runs.rows_of(None) is None
    assert runs.rows_of(object()) is None
    assert runs.rows_of({"rows": True}) is None


@pytest.mark.parametrize("call", [
    lambda: runs.start_run("r", trigger="cron"),
    lambda: runs.record_task("r", "t", "exploded"),
    lambda: runs.record_task("r", "t", "success", layer="platinum"),
    lambda: runs.finish_run("r", "maybe"),
])
def test_bad_values_are_refused_before_touching_the_database(call):
    with pytest.raises(ValueError):
        call()
