"""Celery workers of the local Airflow (`MEDALLION_EXECUTOR=celery`).

With `local` (the default) nothing here runs: the scheduler's LocalExecutor
runs the tasks. With `celery` the scheduler hands tasks to a broker
(CELERY_BROKER_URL, e.g. the machine's Redis) and MEDALLION_CELERY_WORKERS
`airflow celery worker` processes run them, MEDALLION_WORKER_CONCURRENCY tasks
each at most. Each worker is supervised like the other components: started
detached with `stack.services.spawn`, pid file `<AIRFLOW_HOME>/celery-worker-N.pid`,
log `<state>/logs/airflow-celery-worker-N.log`, stopped by pid; its health is a
Celery `ping` through the broker.

Every worker has its own identity, `worker-N@<host>`: the Celery node name and
also the task instance's `hostname` (through Airflow's `[core] hostname_callable`),
so Airflow's API and `ops.task_runs` say which worker ran each try even when all
workers share one machine. Celery's result backend defaults to Airflow's metadata
database (`db+postgresql...`, Airflow's own default); CELERY_RESULT_BACKEND overrides it.

Celery selected without a broker is a ConfigError: never a silent fallback to
the LocalExecutor.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from etl.errors import ConfigError, ServiceUnavailable
from etl.settings import Settings

log = logging.getLogger(__name__)

WORKER_NAME_VAR = "MEDALLION_WORKER_NAME"
HOSTNAME_CALLABLE = "stack.celery_local.worker_hostname"
# A worker warm-shuts down: it finishes its running tasks first. Past this, SIGKILL.
STOP_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class WorkerStatus:
    """One worker as `medallion airflow status` shows it."""

    name: str  # worker-1
    node: str  # worker-1@host: Celery node name and task-instance hostname
    state: str  # up | down
    pid: int | None
    detail: str = ""


# ---------------------------------------------------------------- settings -> environment

def is_celery(settings: Settings) -> bool:
    """True when the local Airflow runs its tasks on Celery workers."""
    return settings.medallion_executor == "celery"


def broker_url(settings: Settings) -> str:
    """CELERY_BROKER_URL; a ConfigError naming the variable when Celery is selected without one."""
    url = settings.celery_broker_url.get_secret_value().strip() if settings.celery_broker_url else ""
    if not url:
        raise ConfigError("MEDALLION_EXECUTOR=celery needs a broker: set CELERY_BROKER_URL "
                          "(e.g. redis://127.0.0.1:6379/0), or MEDALLION_EXECUTOR=local")
    return url


def redacted(url: str) -> str:
    """A broker URL for messages: the password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def executor_env(settings: Settings) -> dict[str, str]:
    """Airflow's executor configuration for every component (scheduler, api-server, workers)."""
    # The console reads the executor's name from /api/v2/config (signed in; secrets masked).
    shown = {"AIRFLOW__API__EXPOSE_CONFIG": "True"}
    if not is_celery(settings):
        return {**shown, "AIRFLOW__CORE__EXECUTOR": "LocalExecutor"}
    env = {
        **shown,
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": broker_url(settings),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(settings.medallion_worker_concurrency),
        # One message reserved per free slot: a busy worker leaves the next task to an idle one.
        "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
        # Acknowledged when done, so a worker that dies does not lose the message silently.
        "AIRFLOW__CELERY__TASK_ACKS_LATE": "True",
    }
    if settings.celery_result_backend and settings.celery_result_backend.get_secret_value():
        env["AIRFLOW__CELERY__RESULT_BACKEND"] = settings.celery_result_backend.get_secret_value()
    return env


# ---------------------------------------------------------------- worker identity

def worker_names(settings: Settings) -> list[str]:
    """worker-1 .. worker-N for MEDALLION_CELERY_WORKERS = N (none with the LocalExecutor)."""
    if not is_celery(settings):
        return []
    return [f"worker-{n}" for n in range(1, settings.medallion_celery_workers + 1)]


def node_name(name: str) -> str:
    """The Celery node name of a worker: `worker-1@<host>`."""
    return f"{name}@{socket.gethostname()}"


def worker_hostname() -> str:
    """Airflow's `[core] hostname_callable` in the workers: their node name, else the FQDN.

    Imported by Airflow inside the worker processes (no heavy imports here).
    """
    name = os.environ.get(WORKER_NAME_VAR)
    return node_name(name) if name else socket.getfqdn()


def worker_env(base: dict[str, str], name: str) -> dict[str, str]:
    """The environment of one worker: the components' environment plus its identity."""
    return {**base, WORKER_NAME_VAR: name, "AIRFLOW__CORE__HOSTNAME_CALLABLE": HOSTNAME_CALLABLE}


def worker_argv(airflow_bin: str, name: str, settings: Settings) -> list[str]:
    """`airflow celery worker` for one worker.

    Logs are read from the shared local log folder, so no worker serves them over
    HTTP (two workers on one machine would fight over the log server's port).
    """
    return [airflow_bin, "celery", "worker", "--celery-hostname", node_name(name),
            "--concurrency", str(settings.medallion_worker_concurrency), "--skip-serve-logs"]


# ---------------------------------------------------------------- broker

def _celery_app(url: str):
    from celery import Celery

    return Celery("medallion-probe", broker=url, set_as_current=False)


def check_broker(settings: Settings, timeout: float = 3.0) -> None:
    """Raise ServiceUnavailable naming CELERY_BROKER_URL when the broker does not answer."""
    url = broker_url(settings)
    app = _celery_app(url)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - kombu raises many kinds; all mean "no broker"
        raise ServiceUnavailable(f"the Celery broker at {redacted(url)} does not answer ({exc}); "
                                 "start it or fix CELERY_BROKER_URL") from exc
    finally:
        app.close()


def ping(settings: Settings, nodes: list[str], timeout: float = 2.0) -> set[str]:
    """The nodes among `nodes` that answer a Celery ping through the broker."""
    if not nodes:
        return set()
    app = _celery_app(broker_url(settings))
    try:
        replies = app.control.ping(destination=nodes, timeout=timeout) or []
    except Exception as exc:  # noqa: BLE001 - a broker that went away: nobody answers
        log.info("Celery ping through %s failed: %s", redacted(broker_url(settings)), exc)
        replies = []
    finally:
        app.close()
    return {node for reply in replies for node in reply}


def queue_depth(settings: Settings, queue: str = "default") -> int | None:
    """Messages waiting in the broker's queue (Redis brokers only; None otherwise)."""
    url = broker_url(settings)
    if not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return int(client.llen(queue))
    except redis.RedisError:
        return None
    finally:
        client.close()
