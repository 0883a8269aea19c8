"""The local Airflow's environment and files (no Airflow process started)."""

from __future__ import annotations

import json
import stat
from argparse import Namespace

import pytest

from stack import airflow_local
from etl.settings import PROJECT_ROOT, Settings, state_dir


@pytest.fixture
def settings(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDALLION_HOME", str(tmp_path / "home"))
    return Settings(postgres_db="shop", postgres_password="pg-secret",
                    airflow_api_url="http://127.0.0.1:18123", airflow_username="ops",
                    airflow_password="s3cret", raw_data_path=tmp_path / "raw")


def test_environment_of_the_components(settings, tmp_path):
    env = airflow_local.airflow_env(settings)
    assert env["AIRFLOW_HOME"] == str(state_dir() / "airflow")
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert int(env["AIRFLOW__CORE__PARALLELISM"]) <= 4
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(PROJECT_ROOT / "dags")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18123/execution/"
    assert env["AIRFLOW__API__PORT"] == "18123"
    conn = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert conn.startswith("postgresql+psycopg2://") and conn.endswith("/shop_airflow")
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "ops:admin"
    # the project's settings travel with the components, paths absolute
    assert env["POSTGRES_DB"] == "shop" and env["POSTGRES_PASSWORD"] == "pg-secret"
    assert env["RAW_DATA_PATH"] == str((tmp_path / "raw").resolve())
    assert env["MEDALLION_HOME"] == str(state_dir())


def test_jwt_secret_is_generated_once_and_kept_out_of_the_repo(settings):
    first = airflow_local.airflow_env(settings)["AIRFLOW__API_AUTH__JWT_SECRET"]
    second = airflow_local.airflow_env(settings)["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert first == second and len(first) >= 32
    path = state_dir() / "airflow" / "jwt_secret"
    assert path.read_text().strip() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not (PROJECT_ROOT / "dags" / "jwt_secret").exists()


def test_users_file_is_rewritten_from_the_environment(settings):
    airflow_local.write_users(settings)
    path = airflow_local.passwords_file()
    assert json.loads(path.read_text()) == {"ops": "s3cret"}
    airflow_local.write_users(settings.model_copy(update={"airflow_username": "ana"}))
    assert json.loads(path.read_text()) == {"ana": "s3cret"}


def test_extra_overrides_win(settings):
    env = airflow_local.airflow_env(settings, extra={"MEDALLION_RETRY_DELAY_SECONDS": "1"})
    assert env["MEDALLION_RETRY_DELAY_SECONDS"] == "1"


def test_status_without_airflow_says_down(settings, capsys, monkeypatch):
    monkeypatch.setenv("AIRFLOW_API_URL", settings.airflow_api_url)
    from etl.settings import reset_settings

    reset_settings()
    assert airflow_local.main(Namespace(action="status")) == 1
    out = capsys.readouterr().out
    assert out.count("down") == 4
    assert airflow_local.main(Namespace(action="down")) == 0
    reset_settings()


def test_up_refuses_a_port_held_by_someone_else(settings):
    import socket

    from etl.errors import ConfigError

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        taken = settings.model_copy(update={"airflow_api_url": f"http://127.0.0.1:{port}"})
        with pytest.raises(ConfigError, match="already in use"):
            airflow_local.up(taken)
