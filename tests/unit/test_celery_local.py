"""The executor setting and the Celery workers' configuration (no process started, no broker)."""

from __future__ import annotations

import os
import socket
from argparse import Namespace

import pytest
from pydantic import ValidationError

from etl.errors import ConfigError, ServiceUnavailable
from etl.settings import Settings, reset_settings
from stack import airflow_local, celery_local
from stack.services import free_port


@pytest.fixture
def settings(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDALLION_HOME", str(tmp_path / "home"))
    for var in ("MEDALLION_EXECUTOR", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND",
                "MEDALLION_CELERY_WORKERS", "MEDALLION_WORKER_CONCURRENCY"):
        monkeypatch.delenv(var, raising=False)
    return Settings(_env_file=None, postgres_db="shop", airflow_api_url="http://127.0.0.1:18124",
                    airflow_username="ops", airflow_password="change-me")


def celery(settings, **updates):
    values = {"medallion_executor": "celery", "celery_broker_url": "redis://127.0.0.1:6379/3",
              **updates}
    return Settings(**{**settings.model_dump(), **values})


def test_local_is_the_default_and_starts_no_worker(settings):
    assert settings.medallion_executor == "local"
    env = airflow_local.airflow_env(settings)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert not any(k.startswith("AIRFLOW__CELERY__") for k in env if k not in os.environ)
    assert celery_local.worker_names(settings) == []


def test_celery_without_a_broker_is_a_one_line_config_error(settings):
    chosen = Settings(**{**settings.model_dump(), "medallion_executor": "celery"})
    with pytest.raises(ConfigError) as err:
        airflow_local.airflow_env(chosen)  # never a silent LocalExecutor
    message = str(err.value)
    assert "CELERY_BROKER_URL" in message and "\n" not in message


def test_celery_environment_of_the_components(settings):
    chosen = celery(settings, medallion_worker_concurrency=3)
    env = airflow_local.airflow_env(chosen)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://127.0.0.1:6379/3"
    assert env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == "3"
    assert env["AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER"] == "1"
    assert env["AIRFLOW__CELERY__TASK_ACKS_LATE"] == "True"
    # Airflow derives the result backend from its metadata database unless one is set
    assert "AIRFLOW__CELERY__RESULT_BACKEND" not in celery_local.executor_env(chosen)
    backend = "db+postgresql+psycopg2://airflow@db/airflow_results"
    assert celery_local.executor_env(celery(settings, celery_result_backend=backend))[
        "AIRFLOW__CELERY__RESULT_BACKEND"] == backend
    # the scheduler's parallelism stays within the small machine's budget
    assert int(env["AIRFLOW__CORE__PARALLELISM"]) <= 4


@pytest.mark.parametrize("value, kind", [("celery", "celery"), ("CeleryExecutor", "celery"),
                                         ("LocalExecutor", "local"), (" Local ", "local")])
def test_executor_names_are_accepted_in_both_spellings(settings, value, kind):
    assert Settings(**{**settings.model_dump(), "medallion_executor": value}).medallion_executor == kind


@pytest.mark.parametrize("field, value", [("medallion_executor", "kubernetes"),
                                          ("medallion_celery_workers", 0),
                                          ("medallion_worker_concurrency", 0)])
def test_bad_executor_settings_are_refused(settings, field, value):
    with pytest.raises(ValidationError) as err:
        Settings(**{**settings.model_dump(), field: value})
    assert field in str(err.value)


def test_executor_settings_come_from_the_environment(monkeypatch, settings):
    monkeypatch.setenv("MEDALLION_EXECUTOR", "celery")
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://:pw@cache:6379/1")
    monkeypatch.setenv("MEDALLION_CELERY_WORKERS", "3")
    monkeypatch.setenv("MEDALLION_WORKER_CONCURRENCY", "1")
    s = Settings(_env_file=None)
    assert (s.medallion_executor, s.medallion_celery_workers, s.medallion_worker_concurrency) == (
        "celery", 3, 1)
    assert "pw" not in repr(s)  # the broker URL is a secret
    assert celery_local.redacted(celery_local.broker_url(s)) == "redis://:***@cache:6379/1"


def test_each_worker_has_its_own_identity(settings):
    chosen = celery(settings, medallion_celery_workers=2, medallion_worker_concurrency=2)
    names = celery_local.worker_names(chosen)
    assert names == ["worker-1", "worker-2"]
    base = airflow_local.airflow_env(chosen)
    env = celery_local.worker_env(base, "worker-2")
    assert env["MEDALLION_WORKER_NAME"] == "worker-2"
    assert env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == "stack.celery_local.worker_hostname"
    assert "AIRFLOW__CORE__HOSTNAME_CALLABLE" not in base  # only the workers take the name
    argv = celery_local.worker_argv("/venv/bin/airflow", "worker-2", chosen)
    assert argv[:3] == ["/venv/bin/airflow", "celery", "worker"]
    assert argv[argv.index("--celery-hostname") + 1] == f"worker-2@{socket.gethostname()}"
    assert argv[argv.index("--concurrency") + 1] == "2"
    assert "--skip-serve-logs" in argv  # two log servers on one machine would share a port


def test_hostname_callable_is_the_worker_node_name(monkeypatch):
    monkeypatch.setenv("MEDALLION_WORKER_NAME", "worker-7")
    assert celery_local.worker_hostname() == f"worker-7@{socket.gethostname()}"
    monkeypatch.delenv("MEDALLION_WORKER_NAME")
    assert celery_local.worker_hostname() == socket.getfqdn()


def test_a_broker_that_does_not_answer_names_the_setting(settings):
    chosen = celery(settings, celery_broker_url=f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(ServiceUnavailable) as err:
        celery_local.check_broker(chosen, timeout=1)
    assert "CELERY_BROKER_URL" in str(err.value)


def test_command_line_overrides_the_settings(settings):
    chosen = airflow_local.with_executor(settings, executor="celery", workers=3, concurrency=1)
    assert (chosen.medallion_executor, chosen.medallion_celery_workers,
            chosen.medallion_worker_concurrency) == ("celery", 3, 1)
    assert airflow_local.with_executor(settings) is settings
    with pytest.raises(ValidationError):
        airflow_local.with_executor(settings, workers=0)


def test_status_lists_configured_workers_as_down_when_none_runs(settings, monkeypatch, capsys):
    monkeypatch.setenv("AIRFLOW_API_URL", settings.airflow_api_url)
    monkeypatch.setenv("MEDALLION_EXECUTOR", "celery")
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")
    reset_settings()
    try:
        assert airflow_local.main(Namespace(action="status", workers=2)) == 1
        out = capsys.readouterr().out
        assert "celery worker-1" in out and "celery worker-2" in out
        assert out.count("down") == 6  # four components, two workers
        assert airflow_local.stop_workers() == []
    finally:
        reset_settings()


def test_down_stops_workers_left_by_an_earlier_up(settings):
    """Workers are found by their pid files, whatever the executor setting says now."""
    import subprocess

    home = airflow_local.airflow_home()
    home.mkdir(parents=True)
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    (home / "celery-worker-1.pid").write_text(f"{proc.pid}\n")
    try:
        assert [s.name for s in airflow_local.worker_statuses(settings)] == ["celery worker-1"]
        assert airflow_local.stop_workers() == ["celery worker-1"]
        assert proc.wait(timeout=10) is not None
        assert not (home / "celery-worker-1.pid").exists()
    finally:
        proc.kill()
