"""Airflow Variables over settings, as the tasks see them."""

from __future__ import annotations

from dags.common.runtime import apply_variables, raw_dir_param
from etl.settings import Settings


def test_variables_win_when_set():
    base = Settings(bronze_batch_size=1000, enable_data_quality_checks=True)
    got = apply_variables(base, {"bronze_batch_size": "250", "enable_data_quality_checks": "False",
                                 "unrelated": "x", "silver_batch_size": "9"})
    assert got.bronze_batch_size == 250
    assert not hasattr(got, "silver_batch_size")  # not a setting: nothing reads it
    assert got.enable_data_quality_checks is False


def test_no_variables_keep_the_settings():
    base = Settings()
    assert apply_variables(base, {"bronze_batch_size": None, "enable_data_quality_checks": ""}) is base


def test_empty_raw_dir_param_means_the_settings():
    assert raw_dir_param({"raw_dir": None}) is None
    assert raw_dir_param({"raw_dir": ""}) is None
    assert str(raw_dir_param({"raw_dir": "/data/raw"})) == "/data/raw"


def test_run_id_is_passed_only_to_steps_that_take_it():
    from dags.common.runtime import _with_run

    def init(settings=None, mongo=True):
        pass

    def load(kind, *, run_id=None, settings=None, batch_size=None):
        pass

    assert _with_run(init, "r", "S", {}) == {"settings": "S"}
    assert _with_run(load, "r", "S", {"batch_size": 5}) == {"batch_size": 5, "settings": "S",
                                                            "run_id": "r"}
