"""Real Airflow 3 and the console, private to one test: the stack launcher the browser tests
share (tests/e2e/test_console_fullstack.py, tests/e2e/test_console_redo_browser.py).

`airflow_and_console` sets the environment (MEDALLION_HOME, RAW_DATA_PATH, a free Airflow
port, an operator with a random password, short retry delays, dag_2 unscheduled so only
what the test triggers runs), starts `stack.airflow_local` and `stack.console_local`, and
yields (settings, console URL, password); afterwards it stops both and drops Airflow's
throwaway metadata database. The PostgreSQL and MongoDB databases come from the
`medallion_db` fixture.
"""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from stack import airflow_local, console_local
from stack.services import free_port
from etl.settings import Settings, get_settings, reset_settings


@contextmanager
def airflow_and_console(raw: Path, home: Path, monkeypatch
                        ) -> Iterator[tuple[Settings, str, str]]:
    """Airflow (api-server, scheduler, dag-processor, triggerer) and the console on `raw`."""
    password = uuid.uuid4().hex
    for key, value in {
        "MEDALLION_HOME": str(home),
        "RAW_DATA_PATH": str(raw),
        "AIRFLOW_API_URL": f"http://127.0.0.1:{free_port()}",
        "AIRFLOW_USERNAME": "operator",
        "AIRFLOW_PASSWORD": password,
        "MEDALLION_RETRY_DELAY_SECONDS": "2",
        "MEDALLION_INGEST_SCHEDULE": "none",  # only what the test triggers runs dag_2
    }.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    settings = get_settings()
    try:
        airflow_local.up(settings)
        url = console_local.start(settings, port=free_port())
        yield settings, url, password
    finally:
        console_local.stop()
        airflow_local.down()
        airflow_local.drop_metadata_database(settings)


def wait_for(probe: Callable[[], object], seconds: float, what: str, every: float = 3.0):
    """Poll `probe` until it returns something truthy and return that; AssertionError naming
    `what` after `seconds` (a guard against hanging, not a performance assertion)."""
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {seconds:.0f} s for {what}")
        time.sleep(every)
