"""The local Airflow's environment and files (no Airflow process started)."""

from __future__ import annotations

import json
import stat
from argparse import Namespace

import pytest

from stack import airflow_local
from pydantic import SecretStr

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


# ------------------------------------------------------------------ security (issue 12)

def _modes_at_creation(monkeypatch):
    """Record the mode each file has the moment it is first written (before any chmod)."""
    import os

    seen = {}
    real_open = os.open

    def spy(path, flags, mode=0o777, *args, **kwargs):
        fd = real_open(path, flags, mode, *args, **kwargs)
        if flags & os.O_CREAT:
            seen[str(path)] = stat.S_IMODE(os.fstat(fd).st_mode)
        return fd

    monkeypatch.setattr(os, "open", spy)
    return seen


def test_secret_files_are_0600_from_their_creation(settings, monkeypatch):
    import os

    seen = _modes_at_creation(monkeypatch)
    old_umask = os.umask(0o022)  # a usual umask: a plain write would give 0644
    try:
        airflow_local.airflow_env(settings)
        airflow_local.write_users(settings)
    finally:
        os.umask(old_umask)
    home = state_dir() / "airflow"
    for name in ("jwt_secret", "fernet_key", "api_secret_key", "simple_auth_manager_passwords.json"):
        path = home / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
        created = [mode for p, mode in seen.items() if p.startswith(str(home / f".{name}."))]
        assert created == [0o600], (name, seen)
    assert not [p for p in home.iterdir() if p.name.endswith(".tmp")]


def test_each_component_gets_only_its_secrets(settings, monkeypatch):
    monkeypatch.setenv("AIRFLOW_PASSWORD", "from-the-shell")  # inherited: must not pass on
    full = airflow_local.airflow_env(settings.model_copy(update={
        "smtp_user": "alerts", "smtp_password": SecretStr("smtp-pw"),
        "slack_webhook_url": SecretStr("https://hook/x")}))
    envs = {c: airflow_local.component_env(full, c) for c in airflow_local.COMPONENTS}
    for component, env in envs.items():
        assert "AIRFLOW_PASSWORD" not in env, component  # sign-in password: nobody
        assert "s3cret" not in env.values(), component
        # Airflow's own secrets: every component
        assert env["AIRFLOW__CORE__FERNET_KEY"] and env["AIRFLOW__API_AUTH__JWT_SECRET"]
    tasks = envs["scheduler"]  # LocalExecutor: tasks and their alert callbacks run under it
    assert tasks["POSTGRES_PASSWORD"] == "pg-secret" and tasks["SMTP_PASSWORD"] == "smtp-pw"
    assert tasks["SLACK_WEBHOOK_URL"] == "https://hook/x"
    assert envs["dag-processor"]["POSTGRES_PASSWORD"] == "pg-secret"
    assert "SMTP_PASSWORD" not in envs["dag-processor"]
    for component in ("api-server", "triggerer"):
        for name in ("POSTGRES_PASSWORD", "SMTP_PASSWORD", "SLACK_WEBHOOK_URL", "SMTP_USER"):
            assert name not in envs[component], (component, name)


def test_with_celery_the_workers_not_the_scheduler_hold_the_task_secrets(settings):
    full = airflow_local.airflow_env(settings.model_copy(update={
        "smtp_user": "alerts", "smtp_password": SecretStr("smtp-pw"),
        "slack_webhook_url": SecretStr("https://hook/x")}))
    scheduler = airflow_local.component_env(full, "scheduler", celery=True)
    worker = airflow_local.component_env(full, "celery-worker")
    for name in airflow_local.PROJECT_SECRETS:
        assert name not in scheduler, name  # it only queues the tasks
    assert worker["POSTGRES_PASSWORD"] == "pg-secret" and worker["SMTP_PASSWORD"] == "smtp-pw"
    assert worker["SLACK_WEBHOOK_URL"] == "https://hook/x" and worker["MONGO_URI"]
    assert "AIRFLOW_PASSWORD" not in worker
    assert worker["AIRFLOW__CORE__FERNET_KEY"] == scheduler["AIRFLOW__CORE__FERNET_KEY"]


def test_api_server_binds_to_loopback_by_default(settings):
    assert airflow_local.settings_host(settings) == "127.0.0.1"
    assert airflow_local.airflow_env(settings)["AIRFLOW__API__HOST"] == "127.0.0.1"
    wide = settings.model_copy(update={"airflow_api_url": "http://airflow.example.com:8080"})
    assert airflow_local._argv("api-server", wide)[2:4] == ["--host", "127.0.0.1"]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "airflow.example.com"])
def test_api_server_refuses_a_public_address_with_the_default_password(settings, host):
    from etl.errors import ConfigError

    exposed = settings.model_copy(update={"airflow_api_host": host,
                                          "airflow_password": SecretStr("admin")})
    with pytest.raises(ConfigError, match="AIRFLOW_PASSWORD"):
        airflow_local.up(exposed)
    assert not airflow_local.passwords_file().exists()  # refused before anything was written
    # with a real password the check passes (up then fails later on the port check only)
    airflow_local.check_exposure(exposed.model_copy(update={"airflow_password": SecretStr("l0ng-Pa55")}))


def test_api_server_on_loopback_with_the_default_password_is_fine(settings):
    airflow_local.check_exposure(settings.model_copy(update={"airflow_password": SecretStr("admin")}))
