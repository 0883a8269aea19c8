"""docker-compose.yml, Dockerfile and the init script: structure, not a running stack.

No Docker engine runs in CI, so these tests read the files: the services and
their images, the shared `x-airflow-common` block, health checks, start-up
order, volumes, the celery profile, and that no secret is written in them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
INIT_SCRIPT = ROOT / "docker" / "airflow-init.sh"

AIRFLOW_SERVICES = ["airflow-init", "airflow-apiserver", "airflow-scheduler",
                    "airflow-dag-processor", "airflow-triggerer", "airflow-worker"]
LONG_RUNNING = ["postgres", "mongo", "airflow-apiserver", "airflow-scheduler",
                "airflow-dag-processor", "airflow-triggerer", "console", "redis", "airflow-worker"]
#: What a user must put in .env; compose refuses to start without them.
REQUIRED_VARIABLES = {"POSTGRES_PASSWORD", "AIRFLOW_PASSWORD", "AIRFLOW_JWT_SECRET",
                      "AIRFLOW_API_SECRET_KEY", "AIRFLOW_FERNET_KEY"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY$|WEBHOOK", re.I)
REQUIRED_REF = re.compile(r"^\$\{([A-Z0-9_]+):\?[^}]+\}$")


@pytest.fixture(scope="module")
def text() -> str:
    return COMPOSE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(text) -> dict:
    return yaml.safe_load(text)


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _service_blocks(text: str) -> dict[str, str]:
    """The raw text of each service (to see which anchors it merges)."""
    body = text.split("\nservices:\n", 1)[1].split("\nvolumes:\n", 1)[0]
    blocks: dict[str, str] = {}
    name = None
    for line in body.splitlines():
        m = re.match(r"^  ([a-z0-9-]+):\s*$", line)
        if m:
            name = m.group(1)
            blocks[name] = ""
        elif name:
            blocks[name] += line + "\n"
    return blocks


def _env(service: dict) -> dict:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment as a mapping, so anchors can be merged"
    return env


# ---------------------------------------------------------------- services and images

def test_the_services_are_all_there(services):
    for name in ["postgres", "mongo", "console", "redis", *AIRFLOW_SERVICES]:
        assert name in services, name


def test_database_images_are_pinned_to_the_majors_we_support(services):
    assert services["postgres"]["image"] == "postgres:16"
    assert services["mongo"]["image"] == "mongo:7"
    assert services["redis"]["image"].startswith("redis:7.2")


def test_airflow_and_console_run_the_project_image_built_on_airflow_3_3(services):
    from_line = re.search(r"^ARG AIRFLOW_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.M)
    assert from_line and re.fullmatch(r"apache/airflow:3\.3\.\d+-python3\.11", from_line.group(1))
    assert "FROM ${AIRFLOW_IMAGE}" in DOCKERFILE.read_text()
    images = {services[name]["image"] for name in [*AIRFLOW_SERVICES, "console"]}
    assert len(images) == 1
    for name in [*AIRFLOW_SERVICES, "console"]:
        assert services[name]["build"] == {"context": ".", "dockerfile": "Dockerfile"}


def test_dockerfile_installs_the_project_without_moving_airflow(services):
    text = DOCKERFILE.read_text()
    assert re.search(r'pip install .*"apache-airflow==\$\{AIRFLOW_VERSION\}" -e \.', text)
    for folder in ("etl", "dags", "sql", "checks", "console", "docker"):
        assert re.search(rf"^COPY .* {folder} \./{folder}$", text, re.M), folder
    assert "USER airflow" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".venv", ".git", ".medallion", "data"):
        assert entry in ignored, entry


# ---------------------------------------------------------------- the common block

def test_every_airflow_service_merges_the_common_block(text, compose, services):
    blocks = _service_blocks(text)
    common = compose["x-airflow-common"]
    for name in AIRFLOW_SERVICES:
        assert "<<: *airflow-common\n" in blocks[name], name
        service = services[name]
        assert service["image"] == common["image"]
        assert service["user"] == common["user"]
        assert service["volumes"] == common["volumes"]
        env = _env(service)
        for key, value in common["environment"].items():
            assert env.get(key) == value, f"{name}: {key}"


def test_airflow_configuration(compose):
    env = compose["x-airflow-common"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
    assert re.fullmatch(r"postgresql\+psycopg2://\$\{POSTGRES_USER:-postgres\}:"
                        r"\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432/\$\{POSTGRES_DB:-video_analytics\}_airflow",
                        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert REQUIRED_REF.match(env["AIRFLOW__API_AUTH__JWT_SECRET"])
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("simple_auth_manager.SimpleAuthManager")
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "${AIRFLOW_USERNAME:-admin}:admin"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"].startswith("/opt/airflow/auth/")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/medallion/dags"
    assert compose["x-airflow-common"]["env_file"] == [{"path": ".env", "required": False}]


def test_project_settings_point_at_the_compose_services(services):
    for name in [*AIRFLOW_SERVICES, "console"]:
        env = _env(services[name])
        assert env["POSTGRES_HOST"] == "postgres", name
        assert env["POSTGRES_PORT"] == "5432", name
        assert env["MONGO_URI"] == "mongodb://mongo:27017/?replicaSet=rs0", name
        assert env["AIRFLOW_API_URL"] == "http://airflow-apiserver:8080", name
        assert env["RAW_DATA_PATH"].startswith("/opt/medallion/data/"), name


def test_commands(services):
    assert services["airflow-apiserver"]["command"] == "api-server"
    assert services["airflow-scheduler"]["command"] == "scheduler"
    assert services["airflow-dag-processor"]["command"] == "dag-processor"
    assert services["airflow-triggerer"]["command"] == "triggerer"
    assert services["airflow-worker"]["command"] == "celery worker"
    assert services["airflow-init"]["command"] == ["/opt/medallion/docker/airflow-init.sh"]
    assert services["airflow-init"]["restart"] == "no"
    assert "streamlit" in services["console"]["command"]
    assert services["mongo"]["command"][:3] == ["mongod", "--replSet", "rs0"]


# ---------------------------------------------------------------- health and order

def test_long_running_services_have_health_checks(services):
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck")
        assert check and check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert check.get("interval") and check.get("retries"), name


def test_mongo_health_check_initiates_the_replica_set(services):
    test = " ".join(services["mongo"]["healthcheck"]["test"])
    assert "rs.initiate(" in test and "'rs0'" in test and "host: 'mongo:27017'" in test
    assert "isWritablePrimary" in test and "quit(1)" in test


def test_start_up_order(services):
    for name in AIRFLOW_SERVICES:
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["mongo"]["condition"] == "service_healthy", name
        if name != "airflow-init":
            assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
    assert services["console"]["depends_on"]["airflow-init"]["condition"] == \
        "service_completed_successfully"
    worker = services["airflow-worker"]["depends_on"]
    assert worker["redis"]["condition"] == "service_healthy"
    assert worker["airflow-apiserver"]["condition"] == "service_healthy"
    # A service that is always on may not depend on one behind a profile: compose
    # refuses such a file when the profile is off.
    for name, service in services.items():
        if "profiles" in service:
            continue
        for dep in service.get("depends_on", {}):
            assert "profiles" not in services[dep], f"{name} depends on profiled {dep}"


# ---------------------------------------------------------------- volumes and profiles

def test_named_volumes_are_declared_and_used(compose, services):
    declared = set(compose["volumes"])
    used = set()
    for name, service in services.items():
        for spec in service.get("volumes", []):
            source = spec.split(":", 1)[0]
            if not source.startswith((".", "/", "$")):
                used.add(source)
    assert used == declared
    assert {"postgres-data", "mongo-data", "airflow-logs", "medallion-data"} <= declared
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]


def test_celery_profile(compose, services):
    assert services["redis"]["profiles"] == ["celery"]
    assert services["airflow-worker"]["profiles"] == ["celery"]
    env = compose["x-airflow-common"]["environment"]
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    assert "CeleryExecutor" in COMPOSE.read_text()  # the documented switch
    for name in ["postgres", "mongo", "console", *AIRFLOW_SERVICES]:
        if name != "airflow-worker":
            assert "profiles" not in services[name], name


def test_ports_are_published_on_loopback_only(services):
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port}"


# ---------------------------------------------------------------- secrets

def _walk_env(services):
    for name, service in services.items():
        for key, value in _env(service).items():
            yield name, key, str(value)


def test_no_secret_is_written_in_the_file(services, text):
    for name, key, value in _walk_env(services):
        if SECRET_NAME.search(key) and not key.endswith("_FILE"):
            assert REQUIRED_REF.match(value), f"{name}: {key} must be ${{VAR:?message}}"
        for m in re.finditer(r"://([^/@\s]*)@", value):
            user, _, password = m.group(1).partition(":")
            assert not password or REQUIRED_REF.match(password), f"{name}: {key} holds a password"
    # Nowhere else either: a secret-named key followed by a literal on the same line.
    code = "\n".join(line for line in re.sub(r"\$\{[^}]*\}", "", text).splitlines()
                     if not line.lstrip().startswith("#") and "_FILE:" not in line)
    assert not re.search(r"(password|secret|fernet)\S*[ \t]*[:=][ \t]*['\"]?[A-Za-z0-9+/=_-]{6,}",
                         code, re.I)


def test_required_variables_are_the_documented_ones(text):
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    assert required == REQUIRED_VARIABLES
    header = text.split("\nname:", 1)[0]
    for var in REQUIRED_VARIABLES:
        assert var in header, f"{var} is not documented at the top of docker-compose.yml"


def test_dollar_signs_are_interpolations_or_escaped(text):
    # `$$` reaches the container as `$`; a lone `$` must open a ${...} interpolation.
    stripped = text.replace("$$", "")
    assert not re.search(r"\$(?!\{)", stripped)
    assert stripped.count("${") == len(re.findall(r"\$\{[A-Za-z0-9_]+(:?[-?][^}]*)?\}", stripped))


# ---------------------------------------------------------------- the init script

def test_init_script_is_valid_bash_and_does_each_step():
    text = INIT_SCRIPT.read_text()
    assert text.startswith("#!/usr/bin/env bash")
    for step in ("airflow db migrate", "SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", "medallion init",
                 "medallion generate", "create database"):
        assert step in text, step
    if shutil.which("bash"):
        subprocess.run(["bash", "-n", str(INIT_SCRIPT)], check=True)
