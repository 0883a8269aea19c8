"""Local services, embedded by default, no Docker needed (`medallion services up|down|status`).

PostgreSQL: the configured server is used when it accepts a login (the database is
created when missing). Otherwise a private cluster is created under
`.medallion/postgres` with the machine's PostgreSQL binaries, run by an
unprivileged user (initdb refuses root), on its own port with password auth.

MongoDB: the configured server is used when it answers; otherwise `secantusd-py`
(SecantusDB, a MongoDB-wire-protocol server; GPL, so only ever run as a separate
process) is started with storage under `.medallion/mongo`.

Coordinates of what was started go to `.medallion/services.env`, which Settings
reads, so every later command finds them. Only what was started (pid files) is
ever stopped.
"""

from __future__ import annotations

import glob
import grp
import logging
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


from etl.db import ensure_database, pg_login
from etl.errors import ConfigError, ServiceUnavailable
from etl.settings import Settings, get_settings, reset_settings, state_dir

log = logging.getLogger(__name__)

PRIVATE_PG_PORT = 55432
PRIVATE_MONGO_PORT = 27027


@dataclass(frozen=True)
class ServiceStatus:
    """One line of `medallion services status`."""

    name: str
    address: str
    state: str  # "up" | "down"
    managed: bool  # started by us (pid file) or external
    detail: str = ""


# ---------------------------------------------------------------- helpers

def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pid_alive(pid: int) -> bool:
    """True while pid runs; a child of ours that exited (a zombie) is reaped and counts as dead."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not our child: kill(0) below decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_pid(pid_file: Path) -> int | None:
    """The pid in pid_file when that process is alive, else None."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if _pid_alive(pid) else None


def stop_pid(pid_file: Path, timeout: float = 20.0) -> bool:
    """SIGTERM the process group in pid_file, then SIGKILL after timeout; True if one was stopped."""
    pid = read_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _pid_alive(pid):
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.2)
    if _pid_alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    pid_file.unlink(missing_ok=True)
    return True


def spawn(argv: list[str], log_file: Path, pid_file: Path, env: dict | None = None,
          cwd: Path | None = None) -> int:
    """Start argv detached in its own session, output to log_file, pid to pid_file."""
    running = read_pid(pid_file)
    if running is not None:
        raise ConfigError(f"{argv[0]} already runs as pid {running} ({pid_file}); stop it first")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env, cwd=cwd,
        )
    pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` as a file only its owner can read (mode 0600 from its creation).

    The text goes to a new file opened with O_CREAT|O_EXCL and mode 0600 (a umask can
    only narrow that), then replaces `path` in one rename: no moment exists where the
    secret sits in a file others could read, and a reader never sees half of it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


_applied: set[str] = set()


def _services_env_path() -> Path:
    return state_dir() / "services.env"


def _read_services_env() -> dict[str, str]:
    path = _services_env_path()
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
    return values


def _write_services_env(updates: dict[str, str | None]) -> None:
    """Record private services' coordinates for later commands, and apply them to this process.

    A variable set explicitly in the environment would mask the file for later
    processes, so that case is logged as a warning naming the variable.
    """
    for key, value in updates.items():
        current = os.environ.get(key)
        if value is not None and current is not None and current != value and key not in _applied:
            log.warning("%s is set in the environment to %r, which hides the private service; "
                        "unset it so later commands use %s", key,
                        "***" if "PASSWORD" in key or "URI" in key else current,
                        "the value in " + str(_services_env_path()))
        if value is None:
            if key in _applied:
                os.environ.pop(key, None)
                _applied.discard(key)
        else:
            os.environ[key] = value
            _applied.add(key)
    values = _read_services_env()
    for key, value in updates.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    body = "# Written by `medallion services up`: coordinates of private services.\n"
    body += "".join(f"{k}={v}\n" for k, v in sorted(values.items()))
    write_private(_services_env_path(), body)
    reset_settings()


# ---------------------------------------------------------------- PostgreSQL

def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if not candidates:
        raise ConfigError(
            f"PostgreSQL's `{name}` was not found: install Debian's `postgresql` package, "
            "or point POSTGRES_HOST / POSTGRES_PORT at a running server."
        )
    return candidates[0]


def _unprivileged_user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ConfigError("running as root and no `postgres` user exists to own a private cluster")


def _as_user(argv: list[str], user: pwd.struct_passwd | None) -> list[str]:
    return argv if user is None else ["runuser", "-u", user.pw_name, "--", *argv]


def _pg_dir() -> Path:
    return state_dir() / "postgres"


def private_postgres_up() -> dict[str, str]:
    """Create (once) and start the private cluster; returns the settings it needs."""
    data = _pg_dir() / "data"
    user = _unprivileged_user()
    env_values = _read_services_env()
    password = env_values.get("POSTGRES_PASSWORD") or secrets.token_urlsafe(18)
    if "POSTGRES_PORT" in env_values:
        port = int(env_values["POSTGRES_PORT"])
    else:
        port = PRIVATE_PG_PORT if not port_open("127.0.0.1", PRIVATE_PG_PORT) else free_port()
    if not (data / "PG_VERSION").exists():
        _init_cluster(data, password, user)
    if not port_open("127.0.0.1", port):
        logfile = state_dir() / "logs" / "postgres.log"
        logfile.parent.mkdir(parents=True, exist_ok=True)
        logfile.touch()
        if user is not None:
            os.chown(logfile, user.pw_uid, user.pw_gid)
            grant_traverse(logfile.parent, user)
        port = _start_cluster(data, logfile, port, user, movable="POSTGRES_PORT" not in env_values)
    return {
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": "postgres",
        "POSTGRES_PASSWORD": password,
    }


def _init_cluster(data: Path, password: str, user: pwd.struct_passwd | None) -> None:
    """initdb the private cluster with `password`, through a 0600 file removed whatever happens."""
    _pg_dir().mkdir(parents=True, exist_ok=True)
    _pg_dir().chmod(0o700)
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    pwfile = _pg_dir() / "pwfile"
    try:
        write_private(pwfile, password + "\n")
        if user is not None:
            for path in (_pg_dir(), data, pwfile):
                os.chown(path, user.pw_uid, user.pw_gid)
            grant_traverse(_pg_dir().parent, user)
        subprocess.run(
            _as_user([_pg_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=scram-sha-256",
                      f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C"], user),
            check=True, stdout=subprocess.DEVNULL,
        )
    finally:
        pwfile.unlink(missing_ok=True)


def _can_traverse(st: os.stat_result, user: pwd.struct_passwd) -> bool:
    if st.st_uid == user.pw_uid:
        return bool(st.st_mode & stat.S_IXUSR)
    groups = {user.pw_gid, *(g.gr_gid for g in grp.getgrall() if user.pw_name in g.gr_mem)}
    if st.st_gid in groups:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def grant_traverse(folder: Path, user: pwd.struct_passwd) -> list[Path]:
    """Let `user` pass through `folder` and its parents: the search bit for others, nothing more.

    Only folders `user` cannot pass through yet change, and only by o+x (enter,
    not list or write); each change is logged. Returns the folders changed.
    """
    changed = []
    for path in [folder, *folder.parents]:
        st = path.stat()
        if _can_traverse(st, user):
            continue
        try:
            path.chmod(stat.S_IMODE(st.st_mode) | stat.S_IXOTH)
        except PermissionError:
            break
        log.warning("gave others search permission (o+x) on %s so the `%s` user can reach the "
                    "private PostgreSQL cluster", path, user.pw_name)
        changed.append(path)
    return changed


def _start_cluster(data: Path, logfile: Path, port: int, user, *, movable: bool,
                   attempts: int = 6) -> int:
    """pg_ctl start on `port`; returns the port it listens on.

    A port that cannot be bound (a socket in TIME-WAIT, or a client holding it as
    its ephemeral port) is retried after a pause when clients already know it (a
    restart), or swapped for another free port when the cluster is new.
    """
    for attempt in range(attempts):
        done = subprocess.run(
            _as_user([_pg_bin("pg_ctl"), "-D", str(data), "-l", str(logfile), "-w", "-o",
                      f"-p {port} -k /tmp -c listen_addresses=127.0.0.1", "start"], user),
            check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        if done.returncode == 0:
            return port
        log_tail = logfile.read_text(errors="replace")[-2000:]
        if "Address already in use" not in log_tail or attempt == attempts - 1:
            raise ServiceUnavailable(f"the private PostgreSQL cluster did not start on port {port}; "
                                     f"see {logfile}")
        if movable:
            log.info("port %s cannot be bound; starting the private cluster on another port", port)
            port = free_port()
        else:
            time.sleep(2 * (attempt + 1))
    return port


def private_postgres_down() -> bool:
    data = _pg_dir() / "data"
    if not (data / "postmaster.pid").exists():
        return False
    done = subprocess.run(
        _as_user([_pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                 _unprivileged_user()),
        check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    if done.returncode != 0:
        raise ServiceUnavailable(f"could not stop the private PostgreSQL cluster in {data}: "
                                 f"{done.stderr.strip() or 'pg_ctl stop failed'}")
    return True


def postgres_up() -> ServiceStatus:
    """Use the configured server if it accepts a login, else start the private cluster."""
    settings = get_settings()
    reason = pg_login(settings, "postgres")
    if reason is None or pg_login(settings, settings.postgres_db) is None:
        ensure_database(settings)
        return ServiceStatus("postgres", f"{settings.postgres_host}:{settings.postgres_port}", "up",
                             _is_private_pg(settings), "configured server accepts a login")
    log.info("PostgreSQL at %s:%s refused a login (%s); starting a private cluster",
             settings.postgres_host, settings.postgres_port, reason)
    _write_services_env(private_postgres_up())
    settings = get_settings()
    ensure_database(settings)
    reason = pg_login(settings, settings.postgres_db)
    if reason is not None:
        raise ServiceUnavailable(f"the private PostgreSQL cluster started but refuses a login: {reason}")
    return ServiceStatus("postgres", f"127.0.0.1:{settings.postgres_port}", "up", True,
                         f"private cluster in {_pg_dir()}")


def _is_private_pg(settings: Settings) -> bool:
    return (_pg_dir() / "data" / "postmaster.pid").exists() and \
        settings.postgres_port == int(_read_services_env().get("POSTGRES_PORT", -1))


# ---------------------------------------------------------------- MongoDB

def _mongo_pid_file() -> Path:
    return state_dir() / "mongo" / "secantusd.pid"


def _mongo_answers(uri: str, timeout_ms: int = 1500) -> bool:
    import pymongo
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms)
    try:
        client.admin.command("ping")
        return True
    except Exception:  # noqa: BLE001 - any failure means "does not answer"
        return False
    finally:
        client.close()


def secantus_binary() -> str:
    """The `secantusd-py` launcher installed with the product."""
    found = shutil.which("secantusd-py") or str(Path(sys.executable).parent / "secantusd-py")
    if not Path(found).exists():
        raise ConfigError("`secantusd-py` is missing: install the embedded MongoDB-protocol server "
                          "(`pip install -e '.[embedded]'`), or set MONGO_URI to a running MongoDB")
    return found


def start_secantus(port: int, storage: Path, log_file: Path, pid_file: Path,
                   timeout: float = 30.0) -> str:
    """Start a SecantusDB server and wait until it answers; returns its URI."""
    storage.mkdir(parents=True, exist_ok=True)
    spawn([secantus_binary(), "--host", "127.0.0.1", "--port", str(port),
           "--storage-path", str(storage), "--log-level", "WARNING"],
          log_file, pid_file, cwd=storage.parent)
    uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _mongo_answers(uri, 500):
            return uri
        if read_pid(pid_file) is None:
            break
        time.sleep(0.3)
    raise ServiceUnavailable(f"SecantusDB did not start on 127.0.0.1:{port}; see {log_file}")


def mongo_up() -> ServiceStatus:
    """Use the configured MongoDB when it answers, else start SecantusDB."""
    settings = get_settings()
    if _mongo_answers(settings.mongo_uri_value):
        return ServiceStatus("mongo", settings.mongo_address, "up",
                             read_pid(_mongo_pid_file()) is not None, "configured server answers")
    recorded = _read_services_env()
    if read_pid(_mongo_pid_file()) is not None and recorded.get("MONGO_URI"):
        # Ours is already running (the configured address hides it): reuse it.
        _write_services_env({k: recorded[k] for k in ("MONGO_URI", "MONGO_HOST", "MONGO_PORT")
                             if k in recorded})
        return ServiceStatus("mongo", get_settings().mongo_address, "up", True,
                             "SecantusDB (private, already running)")
    port = PRIVATE_MONGO_PORT if not port_open("127.0.0.1", PRIVATE_MONGO_PORT) else free_port()
    log.info("MongoDB at %s does not answer; starting SecantusDB on 127.0.0.1:%s",
             settings.mongo_address, port)
    uri = start_secantus(port, state_dir() / "mongo" / "data", state_dir() / "logs" / "mongo.log",
                         _mongo_pid_file())
    _write_services_env({"MONGO_URI": uri, "MONGO_HOST": "127.0.0.1", "MONGO_PORT": str(port)})
    return ServiceStatus("mongo", f"127.0.0.1:{port}", "up", True, "SecantusDB (private)")


# ---------------------------------------------------------------- commands

def up() -> list[ServiceStatus]:
    """Bring PostgreSQL and MongoDB up (external when reachable, private otherwise)."""
    return [postgres_up(), mongo_up()]


def down() -> list[str]:
    """Stop only what `up` started; returns what was stopped."""
    stopped = []
    if stop_pid(_mongo_pid_file()):
        stopped.append("mongo (SecantusDB)")
        _write_services_env({"MONGO_URI": None, "MONGO_HOST": None, "MONGO_PORT": None})
    if private_postgres_down():
        stopped.append("postgres (private cluster)")
    return stopped


def status() -> list[ServiceStatus]:
    """The state of each service as the settings see it."""
    settings = get_settings()
    pg_reason = pg_login(settings, settings.postgres_db)
    pg = ServiceStatus(
        "postgres", f"{settings.postgres_host}:{settings.postgres_port}/{settings.postgres_db}",
        "up" if pg_reason is None else "down", _is_private_pg(settings),
        "" if pg_reason is None else pg_reason,
    )
    mongo_ok = _mongo_answers(settings.mongo_uri_value)
    mongo = ServiceStatus("mongo", settings.mongo_address, "up" if mongo_ok else "down",
                          read_pid(_mongo_pid_file()) is not None)
    return [pg, mongo]
