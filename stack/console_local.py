"""`medallion console [up|down|status]`: the Streamlit console as a detached local process.

Streamlit is started from the repository root (it reads `.streamlit/config.toml`
from the working directory) on CONSOLE_ADDRESS (127.0.0.1 unless set; any other
address needs a non-default AIRFLOW_PASSWORD) with its pid in `.medallion/console/console.pid`
and its output in `.medallion/logs/console.log`; `up` returns once
`/_stcore/health` answers. Only the process this module started is ever stopped.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from etl.errors import ConfigError, ServiceUnavailable
from stack.services import port_open, read_pid, spawn, stop_pid
from etl.settings import PROJECT_ROOT, Settings, get_settings, is_loopback, state_dir

log = logging.getLogger(__name__)

APP = PROJECT_ROOT / "console" / "streamlit_app.py"
START_TIMEOUT_SECONDS = 90.0


def _dir() -> Path:
    return state_dir() / "console"


def pid_file() -> Path:
    """Where the running console's pid is kept."""
    return _dir() / "console.pid"


def _port_file() -> Path:
    return _dir() / "console.port"


def log_file() -> Path:
    """The console's log (Streamlit's output)."""
    return state_dir() / "logs" / "console.log"


def _probe_host(settings: Settings | None = None) -> str:
    """Where this machine reaches the console: loopback unless it listens on one address only."""
    address = (settings or get_settings()).console_address.strip()
    if not address or address in ("0.0.0.0", "::") or is_loopback(address):
        return "127.0.0.1"
    return address


def _url(port: int) -> str:
    host = _probe_host()
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


def check_exposure(settings: Settings) -> None:
    """Refuse to listen beyond this machine while the sign-in password is a default."""
    problem = settings.exposure_problem(settings.console_address, "The console")
    if problem:
        raise ConfigError(problem + " (CONSOLE_ADDRESS)")


def healthy(port: int, timeout: float = 2.0) -> bool:
    """True when a Streamlit server on `port` answers /_stcore/health with ok."""
    try:
        with urllib.request.urlopen(f"{_url(port)}/_stcore/health", timeout=timeout) as resp:
            return resp.status == 200 and resp.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


def running() -> tuple[int, int] | None:
    """(pid, port) of the console this module started, when it is alive."""
    pid = read_pid(pid_file())
    if pid is None:
        return None
    try:
        port = int(_port_file().read_text().strip())
    except (OSError, ValueError):
        return None
    return pid, port


def start(settings: Settings | None = None, port: int | None = None,
          timeout: float = START_TIMEOUT_SECONDS) -> str:
    """Start the console (unless already running) and wait until it is healthy; returns its URL."""
    settings = settings or get_settings()
    check_exposure(settings)
    current = running()
    if current is not None:
        pid, current_port = current
        if port is None or port == current_port:
            if not healthy(current_port):
                _wait_healthy(pid, current_port, timeout)
            return _url(current_port)
        stop()
    port = port or settings.console_port
    if port_open(_probe_host(settings), port):
        raise ServiceUnavailable(
            f"Port {port} is already taken by another program: set CONSOLE_PORT to a free port.")
    argv = [sys.executable, "-m", "streamlit", "run", str(APP.relative_to(PROJECT_ROOT)),
            "--server.port", str(port), "--server.address", settings.console_address,
            "--server.headless", "true"]
    pid = spawn(argv, log_file(), pid_file(), cwd=PROJECT_ROOT)
    _port_file().write_text(f"{port}\n")
    log.info("console starting (pid %s) on port %s; log %s", pid, port, log_file())
    _wait_healthy(pid, port, timeout)
    return _url(port)


def _wait_healthy(pid: int, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if healthy(port):
            return
        if read_pid(pid_file()) is None:
            raise ServiceUnavailable(f"The console exited while starting; see {log_file()}")
        time.sleep(0.5)
    raise ServiceUnavailable(
        f"The console (pid {pid}) did not answer on port {port} within {timeout:.0f} s; "
        f"see {log_file()}")


def stop() -> bool:
    """Stop the console this module started; True when one was running."""
    stopped = stop_pid(pid_file())
    _port_file().unlink(missing_ok=True)
    return stopped


def status() -> dict:
    """{'state': 'up'|'down', 'url': ..., 'pid': ...} of the console."""
    current = running()
    if current is None:
        return {"state": "down", "url": None, "pid": None}
    pid, port = current
    return {"state": "up" if healthy(port) else "starting", "url": _url(port), "pid": pid}


def main(args: argparse.Namespace) -> int:
    """Entry point of `medallion console [up|down|status]`."""
    action = getattr(args, "action", None) or "up"
    if action == "up":
        url = start(get_settings())
        print(f"console: {url}  (log {log_file()})")
        print("Read-only pages are open; sign in with AIRFLOW_USERNAME / AIRFLOW_PASSWORD "
              "to trigger, pause or clear.")
        return 0
    if action == "down":
        print("console stopped" if stop() else "console was not running (nothing started by us)")
        return 0
    state = status()
    if state["state"] == "down":
        print("console: down")
        return 1
    print(f"console: {state['state']}  {state['url']}  (pid {state['pid']})")
    return 0 if state["state"] == "up" else 1
