"""Local Airflow 3 (`medallion airflow up|down|status`): four processes, no `standalone`.

`airflow api-server` (port of AIRFLOW_API_URL), `scheduler`, `dag-processor` and
`triggerer` run as separate processes started with `stack.services.spawn`, pid
files under `<state_dir>/airflow`, logs under `<state_dir>/logs`, and are
stopped by pid with SIGTERM. LocalExecutor with parallelism 4 (small machines);
metadata in a PostgreSQL database of its own (`<POSTGRES_DB>_airflow`, created
when missing); DAGs from the repository's `dags/`. Secrets (the JWT secret all
components share, the Fernet key) are generated once and kept in the state
folder (mode 0600 from their creation), never in the repository. The
SimpleAuthManager's user and password file is rewritten (mode 0600) from
AIRFLOW_USERNAME / AIRFLOW_PASSWORD on every `up`.

The api-server listens on AIRFLOW_API_HOST (127.0.0.1 unless set) and refuses
any other address while AIRFLOW_PASSWORD is a default. The components get the
project's own settings in their environment, so tasks see the same PostgreSQL,
MongoDB and raw folder as the CLI, but each gets only the secrets it needs
(see COMPONENT_SECRETS): tasks run inside the scheduler (LocalExecutor), so it
carries theirs, or in the Celery workers, which then carry them instead; the
sign-in password reaches no process, only the password file.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from etl.errors import ConfigError, ServiceUnavailable
from stack import celery_local
from stack.services import port_open, read_pid, spawn, stop_pid, write_private
from etl.settings import PROJECT_ROOT, Settings, get_settings, state_dir

log = logging.getLogger(__name__)

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
DAG_IDS = (
    "dag_1_dw_layers_generator",
    "dag_2_data_ingesters",
    "dag_3_data_transformer_bronze",
    "dag_3_data_transformer_bronze_json",
    "dag_4_data_transformer_silver",
)
# Unpaused by `medallion up` only: an hourly clock that tests of the chain do not want.
MONITOR_DAG_IDS = ("dag_5_pipeline_monitor",)
PARALLELISM = 4
HEALTH_TIMEOUT_SECONDS = float(os.environ.get("MEDALLION_AIRFLOW_START_TIMEOUT", "300"))

# The project's secrets, as environment variables. Airflow's own (the metadata
# database URL, Fernet key, JWT secret, API secret key) go to every component: they
# are how the components trust each other and read the metadata database.
PROJECT_SECRETS = ("POSTGRES_PASSWORD", "MONGO_URI", "AIRFLOW_PASSWORD", "SMTP_USER",
                   "SMTP_PASSWORD", "SLACK_WEBHOOK_URL")
# What each process keeps of them. Tasks (and their retry/failure callbacks, which
# send the alerts) need the data stores and the alert channels: they run in
# processes the scheduler's LocalExecutor forks, or, with MEDALLION_EXECUTOR=celery,
# in the Celery workers, and then the scheduler only queues them and keeps none.
# DAG-level callbacks run in the dag-processor and only record the run in
# PostgreSQL. The api-server checks sign-ins against its password file; the
# triggerer runs no project code. AIRFLOW_PASSWORD (the console and Airflow
# sign-in) reaches none.
TASK_SECRETS = ("POSTGRES_PASSWORD", "MONGO_URI", "SMTP_USER", "SMTP_PASSWORD",
                "SLACK_WEBHOOK_URL")
COMPONENT_SECRETS: dict[str, tuple[str, ...]] = {
    "api-server": (),
    "scheduler": TASK_SECRETS,
    "dag-processor": ("POSTGRES_PASSWORD",),
    "triggerer": (),
    "db-migrate": (),
    "celery-worker": TASK_SECRETS,
}


@dataclass(frozen=True)
class ComponentStatus:
    """One line of `medallion airflow status`."""

    name: str
    state: str  # up | down
    pid: int | None
    detail: str = ""


# ---------------------------------------------------------------- paths and secrets

def airflow_home() -> Path:
    """AIRFLOW_HOME of the local Airflow: `<state_dir>/airflow`."""
    return state_dir() / "airflow"


def _pid_file(component: str) -> Path:
    return airflow_home() / f"{component}.pid"


def _log_file(component: str) -> Path:
    return state_dir() / "logs" / f"airflow-{component}.log"


def _secret(name: str, make) -> str:
    """A secret generated once and kept (mode 0600 from its creation) in AIRFLOW_HOME."""
    path = airflow_home() / name
    if path.exists() and path.read_text().strip():
        return path.read_text().strip()
    value = make()
    write_private(path, value + "\n")
    return value


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def metadata_database(settings: Settings) -> str:
    """The name of Airflow's own metadata database: `<POSTGRES_DB>_airflow`."""
    return f"{settings.postgres_db}_airflow"


def passwords_file() -> Path:
    return airflow_home() / "simple_auth_manager_passwords.json"


def write_users(settings: Settings) -> None:
    """Rewrite the SimpleAuthManager password file from AIRFLOW_USERNAME / AIRFLOW_PASSWORD."""
    password = settings.airflow_password.get_secret_value()
    if not settings.airflow_username or not password:
        raise ConfigError("AIRFLOW_USERNAME and AIRFLOW_PASSWORD must both be set for Airflow's login")
    write_private(passwords_file(), json.dumps({settings.airflow_username: password}))


# ---------------------------------------------------------------- environment

def _project_env(settings: Settings) -> dict[str, str]:
    """The project's settings as environment variables, paths made absolute."""
    env = {
        "POSTGRES_HOST": settings.postgres_host,
        "POSTGRES_PORT": str(settings.postgres_port),
        "POSTGRES_DB": settings.postgres_db,
        "POSTGRES_USER": settings.postgres_user,
        "POSTGRES_PASSWORD": settings.postgres_password_value,
        "MONGO_HOST": settings.mongo_host,
        "MONGO_PORT": str(settings.mongo_port),
        "MONGO_DB": settings.mongo_db,
        "MONGO_URI": settings.mongo_uri_value,
        "RAW_DATA_PATH": str(settings.raw_dir()),
        "BRONZE_BATCH_SIZE": str(settings.bronze_batch_size),
        "ENABLE_DATA_QUALITY_CHECKS": str(settings.enable_data_quality_checks).lower(),
        "AIRFLOW_API_URL": settings.airflow_api_url,
        "AIRFLOW_USERNAME": settings.airflow_username,
        "SMTP_PORT": str(settings.smtp_port),
        "SMTP_TLS": settings.smtp_tls,
        "SMTP_FROM": settings.smtp_from,
        "MEDALLION_HOME": str(state_dir()),
    }
    optional = {
        "ALERT_EMAIL_TO": settings.alert_email_to,
        "SMTP_HOST": settings.smtp_host,
        "SMTP_USER": settings.smtp_user,
        "SMTP_PASSWORD": settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        "SLACK_WEBHOOK_URL": (settings.slack_webhook_url.get_secret_value()
                              if settings.slack_webhook_url else None),
    }
    env.update({k: v for k, v in optional.items() if v})
    return env


def airflow_env(settings: Settings | None = None, *, dags_folder: Path | None = None,
                extra: dict[str, str] | None = None) -> dict[str, str]:
    """The full environment of every Airflow component (and of `airflow` CLI calls).

    The process environment, then the project's settings, then Airflow's own
    configuration; `extra` wins over everything (tests use it). `up` hands each
    component only its share of the secrets (`component_env`).
    """
    settings = settings or get_settings()
    home = airflow_home()
    api_url = settings.airflow_api_url.rstrip("/")
    env = dict(os.environ)
    env.update(_project_env(settings))
    pythonpath = [str(PROJECT_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env.update({
        "PYTHONPATH": os.pathsep.join(dict.fromkeys(pythonpath)),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": settings.sqlalchemy_url(
            metadata_database(settings), driver="psycopg2"),
        "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(PARALLELISM),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder or PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__FERNET_KEY": _secret("fernet_key", _fernet_key),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{settings.airflow_username}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file()),
        "AIRFLOW__API_AUTH__JWT_SECRET": _secret("jwt_secret", lambda: secrets.token_urlsafe(48)),
        "AIRFLOW__API__SECRET_KEY": _secret("api_secret_key", lambda: secrets.token_urlsafe(32)),
        "AIRFLOW__API__BASE_URL": api_url,
        "AIRFLOW__API__HOST": settings_host(settings),
        "AIRFLOW__API__PORT": str(settings.airflow_port),
        "AIRFLOW__API__WORKERS": "1",
        # On 2 busy cores the Execution API can take longer than the 5 s default to
        # answer a task starting up, which failed a first try with httpx.ReadTimeout.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(state_dir() / "logs" / "airflow"),
        "AIRFLOW__LOGGING__DAG_PROCESSOR_CHILD_PROCESS_LOG_DIRECTORY":
            str(state_dir() / "logs" / "airflow" / "dag_processor"),
    })
    env.update(celery_local.executor_env(settings))
    env.update(extra or {})
    return env


def settings_host(settings: Settings) -> str:
    """The interface the API server binds to: AIRFLOW_API_HOST (127.0.0.1 unless set)."""
    return settings.airflow_api_host.strip() or "127.0.0.1"


def _probe_host(settings: Settings) -> str:
    host = settings_host(settings)
    return "127.0.0.1" if host in ("0.0.0.0", "::") else host


def component_env(env: dict[str, str], component: str, *, celery: bool = False) -> dict[str, str]:
    """`env` without the project secrets `component` does not need (see COMPONENT_SECRETS).

    With `celery` the tasks run in the workers, so the scheduler keeps none of theirs.
    """
    keep = () if celery and component == "scheduler" else COMPONENT_SECRETS[component]
    return {k: v for k, v in env.items() if k not in PROJECT_SECRETS or k in keep}


def check_exposure(settings: Settings) -> None:
    """Refuse to serve beyond this machine while the sign-in password is a default."""
    problem = settings.exposure_problem(settings_host(settings), "Airflow's api-server")
    if problem:
        raise ConfigError(problem + " (AIRFLOW_API_HOST)")


def _airflow_bin() -> str:
    found = Path(sys.executable).parent / "airflow"
    if not found.exists():
        raise ConfigError("the `airflow` command is missing from the virtualenv: "
                          "reinstall the product (`pip install -e .`)")
    return str(found)


# ---------------------------------------------------------------- metadata database

def ensure_metadata_database(settings: Settings) -> bool:
    """Create `<POSTGRES_DB>_airflow` when missing; True when created."""
    name = metadata_database(settings)
    try:
        conn = psycopg.connect(**settings.libpq_kwargs("postgres"), autocommit=True)
    except psycopg.OperationalError as exc:
        from etl.db import postgres_unavailable

        raise postgres_unavailable(settings, exc) from exc
    with conn:
        if conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            return False
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    log.info("created Airflow's metadata database %s", name)
    return True


def drop_metadata_database(settings: Settings) -> None:
    """Drop `<POSTGRES_DB>_airflow` (tests use it for their throwaway instances)."""
    with psycopg.connect(**settings.libpq_kwargs("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(metadata_database(settings))))


def migrate(env: dict[str, str]) -> None:
    """`airflow db migrate` (idempotent), output to the migrate log."""
    log_file = _log_file("db-migrate")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log.info("migrating Airflow's metadata database (log: %s)", log_file)
    with open(log_file, "ab") as out:
        result = subprocess.run([_airflow_bin(), "db", "migrate"],
                                env=component_env(env, "db-migrate"), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=airflow_home())
    if result.returncode != 0:
        raise ServiceUnavailable(f"`airflow db migrate` failed (exit {result.returncode}); "
                                 f"see {log_file}")


# ---------------------------------------------------------------- REST (console.airflow_rest)

def health(settings: Settings | None = None) -> dict[str, str]:
    """Component -> status from GET /api/v2/monitor/health ({} when the API does not answer)."""
    from console.airflow_rest import AirflowRequestFailed, AirflowUnavailable, client_from_settings

    try:
        report = client_from_settings(settings).health()
    except (AirflowUnavailable, AirflowRequestFailed):
        return {}
    return {name: status or "none" for name, status in report.items()}


def _healthy(report: dict[str, str]) -> bool:
    needed = ("metadatabase", "scheduler", "triggerer", "dag_processor")
    return bool(report) and all(report.get(name) == "healthy" for name in needed)


def wait_healthy(settings: Settings, timeout: float = HEALTH_TIMEOUT_SECONDS) -> dict[str, str]:
    """Wait until every component reports healthy; raise with the log to read otherwise."""
    deadline = time.monotonic() + timeout
    report: dict[str, str] = {}
    while time.monotonic() < deadline:
        report = health(settings)
        if _healthy(report):
            return report
        dead = [c for c in COMPONENTS if read_pid(_pid_file(c)) is None]
        if dead:
            raise ServiceUnavailable(f"Airflow {', '.join(dead)} exited during start-up; "
                                     f"see {_log_file(dead[0])}")
        time.sleep(2)
    raise ServiceUnavailable(f"Airflow did not become healthy within {timeout:.0f}s "
                             f"(health: {report or 'no answer'}); see {_log_file('api-server')}")


def unpause_chain(settings: Settings, dag_ids=DAG_IDS, timeout: float = 180) -> list[str]:
    """Unpause the DAG chain once the dag-processor has parsed it; returns the DAGs unpaused."""
    from console.airflow_rest import client_from_settings

    client = client_from_settings(settings)
    deadline = time.monotonic() + timeout
    unpaused: list[str] = []
    pending = list(dag_ids)
    while pending and time.monotonic() < deadline:
        for dag_id in list(pending):
            dag = client.dag(dag_id)
            if dag is None:  # not parsed yet
                continue
            if dag["is_paused"]:
                client.set_paused(dag_id, False)
                unpaused.append(dag_id)
            pending.remove(dag_id)
        if pending:
            time.sleep(3)
    if pending:
        log.warning("DAGs not parsed within %.0fs, left as they are: %s (see %s)", timeout,
                    ", ".join(pending), _log_file("dag-processor"))
    return unpaused


# ---------------------------------------------------------------- Celery workers (stack.celery_local)

def _worker_pid_file(name: str) -> Path:
    return airflow_home() / f"celery-{name}.pid"


def _worker_log_file(name: str) -> Path:
    return _log_file(f"celery-{name}")


def _worker_pid_files() -> list[Path]:
    """Pid files of every worker this state folder started, whatever the settings say now."""
    return sorted(airflow_home().glob("celery-worker-*.pid"),
                  key=lambda p: (len(p.name), p.name))


def start_workers(settings: Settings, env: dict[str, str]) -> list[str]:
    """Start the Celery workers that are not running; returns the names started."""
    started = []
    for name in celery_local.worker_names(settings):
        if read_pid(_worker_pid_file(name)) is not None:
            continue
        argv = celery_local.worker_argv(_airflow_bin(), name, settings)
        pid = spawn(argv, _worker_log_file(name), _worker_pid_file(name),
                    env=celery_local.worker_env(component_env(env, "celery-worker"), name),
                    cwd=airflow_home())
        log.info("started airflow celery %s (pid %s, log %s)", name, pid, _worker_log_file(name))
        started.append(name)
    return started


def wait_workers(settings: Settings, timeout: float = HEALTH_TIMEOUT_SECONDS) -> None:
    """Wait until every worker answers a Celery ping; raise with the log to read otherwise."""
    names = celery_local.worker_names(settings)
    nodes = {celery_local.node_name(n): n for n in names}
    deadline = time.monotonic() + timeout
    answering: set[str] = set()
    while time.monotonic() < deadline:
        answering = celery_local.ping(settings, list(nodes))
        if answering >= set(nodes):
            return
        dead = [n for n in names if read_pid(_worker_pid_file(n)) is None]
        if dead:
            raise ServiceUnavailable(f"Celery {', '.join(dead)} exited during start-up; "
                                     f"see {_worker_log_file(dead[0])}")
        time.sleep(2)
    silent = [n for node, n in nodes.items() if node not in answering]
    raise ServiceUnavailable(f"Celery {', '.join(silent)} did not answer a ping within "
                             f"{timeout:.0f}s; see {_worker_log_file(silent[0])}")


def stop_workers() -> list[str]:
    """Stop every worker this state folder started (warm shutdown, then SIGKILL); their names."""
    stopped = []
    for pid_file in _worker_pid_files():
        name = pid_file.name.removeprefix("celery-").removesuffix(".pid")
        if stop_pid(pid_file, timeout=celery_local.STOP_TIMEOUT_SECONDS):
            stopped.append(f"celery {name}")
    return stopped


def worker_statuses(settings: Settings) -> list[ComponentStatus]:
    """One line per worker: configured ones, and any still running from an earlier `up`.

    Up means the worker answers a Celery ping through the broker; only running
    workers are pinged, and a broker that does not answer says so on each line.
    """
    names = list(celery_local.worker_names(settings))
    for pid_file in _worker_pid_files():
        name = pid_file.name.removeprefix("celery-").removesuffix(".pid")
        if name not in names and read_pid(pid_file) is not None:
            names.append(name)
    pids = {name: read_pid(_worker_pid_file(name)) for name in names}
    nodes = {name: celery_local.node_name(name) for name in names}
    answering: set[str] = set()
    broker_problem = ""
    if any(pids.values()):
        try:
            celery_local.check_broker(settings)
            answering = celery_local.ping(settings, [nodes[n] for n, pid in pids.items() if pid])
        except (ConfigError, ServiceUnavailable) as exc:
            broker_problem = str(exc)
    result = []
    for name in names:
        ok = nodes[name] in answering
        if ok:
            detail = f"{nodes[name]}: ping ok"
        elif pids[name] is None:
            detail = f"not running; see {_worker_log_file(name)}"
        else:
            detail = f"{nodes[name]}: {broker_problem or 'no answer to a ping'}"
        result.append(ComponentStatus(f"celery {name}", "up" if ok else "down", pids[name], detail))
    return result


# ---------------------------------------------------------------- commands

def _argv(component: str, settings: Settings) -> list[str]:
    if component == "api-server":
        return [_airflow_bin(), "api-server", "--host", settings_host(settings),
                "--port", str(settings.airflow_port), "--workers", "1"]
    return [_airflow_bin(), component]


def up(settings: Settings | None = None, *, env: dict[str, str] | None = None,
       wait_for_dags: bool = True) -> list[ComponentStatus]:
    """Create and migrate the metadata database, start what is not running, wait until healthy."""
    settings = settings or get_settings()
    check_exposure(settings)
    airflow_home().mkdir(parents=True, exist_ok=True)
    write_users(settings)
    env = env or airflow_env(settings)
    if celery_local.is_celery(settings):
        celery_local.check_broker(settings)
    running = {c: read_pid(_pid_file(c)) for c in COMPONENTS}
    if running["api-server"] is None and port_open(_probe_host(settings), settings.airflow_port):
        # Another process (another Airflow?) holds the port: its health would look like ours.
        raise ConfigError(f"port {settings.airflow_port} of AIRFLOW_API_URL "
                          f"({settings.airflow_api_url}) is already in use by a process this "
                          "state folder did not start; stop it or set AIRFLOW_API_URL to a free port")
    ensure_metadata_database(settings)
    if not all(running.values()):
        migrate(env)
    for component in COMPONENTS:
        if running[component] is None:
            pid = spawn(_argv(component, settings), _log_file(component), _pid_file(component),
                        env=component_env(env, component, celery=celery_local.is_celery(settings)),
                        cwd=airflow_home())
            log.info("started airflow %s (pid %s, log %s)", component, pid, _log_file(component))
    wait_healthy(settings)
    if start_workers(settings, env) or celery_local.is_celery(settings):
        wait_workers(settings)
    if wait_for_dags:
        unpause_chain(settings)
    return status(settings)


def down() -> list[str]:
    """SIGTERM every component this state folder started (by pid file); returns those stopped."""
    stopped = stop_workers()
    for component in reversed(COMPONENTS):
        if stop_pid(_pid_file(component), timeout=30):
            stopped.append(component)
    return stopped


def status(settings: Settings | None = None) -> list[ComponentStatus]:
    """Each component: its pid (when we started it) and what /monitor/health says."""
    settings = settings or get_settings()
    report = health(settings)
    names = {"api-server": "metadatabase", "scheduler": "scheduler",
             "dag-processor": "dag_processor", "triggerer": "triggerer"}
    result = []
    for component in COMPONENTS:
        pid = read_pid(_pid_file(component))
        said = report.get(names[component]) if report else None
        up_ = (said == "healthy") if report else False
        detail = f"health: {said}" if report else f"API at {settings.airflow_api_url} does not answer"
        result.append(ComponentStatus(component, "up" if up_ else "down", pid, detail))
    return result + worker_statuses(settings)


def with_executor(settings: Settings, *, executor: str | None = None, workers: int | None = None,
                  concurrency: int | None = None) -> Settings:
    """Settings with the command line's --executor / --workers / --concurrency (validated)."""
    updates = {k: v for k, v in {"medallion_executor": executor, "medallion_celery_workers": workers,
                                 "medallion_worker_concurrency": concurrency}.items()
               if v is not None}
    if not updates:
        return settings
    return Settings(**{**settings.model_dump(), **updates})


def main(args: argparse.Namespace) -> int:
    """`medallion airflow up|down|status`."""
    if args.action == "down":
        stopped = down()
        print("stopped: " + (", ".join(stopped) if stopped else "nothing (no Airflow component was running)"))
        return 0
    settings = with_executor(get_settings(), executor=getattr(args, "executor", None),
                             workers=getattr(args, "workers", None),
                             concurrency=getattr(args, "concurrency", None))
    statuses = up(settings) if args.action == "up" else status(settings)
    width = max(len(s.name) for s in statuses)
    for s in statuses:
        print(f"{s.name.ljust(width)}  {s.state:<4}  pid {s.pid or '-':<8} {s.detail}")
    if args.action == "up":
        print(f"Airflow UI and API: {settings.airflow_api_url} (user {settings.airflow_username}); "
              f"logs in {state_dir() / 'logs'}")
        if celery_local.is_celery(settings):
            print(f"Executor: CeleryExecutor, {settings.medallion_celery_workers} worker(s) x "
                  f"{settings.medallion_worker_concurrency} on "
                  f"{celery_local.redacted(celery_local.broker_url(settings))}")
    return 0 if all(s.state == "up" for s in statuses) else 1
