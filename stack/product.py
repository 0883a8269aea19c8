"""`medallion up | down | status`: the whole product with one command.

up: services (external or private), schema, Airflow (api-server, scheduler,
dag-processor, triggerer), the console; a generated sample when the raw folder
holds no recognised file; the first pipeline run triggered through Airflow's
REST API; then the addresses and how to sign in. It returns and leaves the
stack running. down stops all of it (only what was started here). Logs are
under .medallion/logs.
"""

from __future__ import annotations

import argparse
import logging
from datetime import date, datetime, timezone

from etl import schema
from stack import airflow_local, console_local, services
from etl.settings import Settings, get_settings, state_dir

log = logging.getLogger(__name__)

FIRST_DAG = "dag_2_data_ingesters"
SAMPLE = {"users": 2000, "sessions": 60000, "contents": 400, "days": 60, "seed": 42,
          "dirty_rate": 0.02}


def has_raw_files(settings: Settings) -> bool:
    """True when the raw folder (searched recursively) holds at least one recognised file."""
    from etl.ingest.discover import discover

    raw = settings.raw_dir()
    return raw.is_dir() and any(f.entity is not None for f in discover(raw))


def ensure_sample(settings: Settings) -> str | None:
    """Generate a sample into RAW_DATA_PATH when it holds no recognised file; returns a summary."""
    from etl import synth

    if has_raw_files(settings):
        return None
    raw = settings.raw_dir()
    raw.mkdir(parents=True, exist_ok=True)
    report = synth.generate(raw, end_date=date.today(), **SAMPLE)
    return f"generated a sample of {len(report.files)} files in {raw}"


def trigger_first_run(settings: Settings) -> str:
    """Trigger dag_2_data_ingesters through /api/v2 (the rest of the chain follows by assets)."""
    from console.airflow_rest import client_from_settings

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    run = client_from_settings(settings, timeout=30).trigger(
        FIRST_DAG, {}, dag_run_id=f"medallion_up__{stamp}")
    return run.get("dag_run_id") or "?"


DEFAULT_PASSWORD_WARNING = (
    "WARNING   AIRFLOW_PASSWORD (the Airflow and console sign-in) is a default password. "
    "Anyone who can reach the console or Airflow can sign in and trigger, pause or clear runs. "
    "Set AIRFLOW_PASSWORD to a strong password in .env; until then both stay on 127.0.0.1.")


def default_password_warning(settings: Settings) -> str | None:
    """The warning `medallion up` prints while the sign-in password is a default, else None."""
    return DEFAULT_PASSWORD_WARNING if settings.uses_default_password else None


def up(args: argparse.Namespace) -> int:
    """Bring everything up, print the addresses, return with the stack running."""
    warning = default_password_warning(get_settings())
    if warning:
        print(warning, flush=True)
    for status in services.up():
        print(f"{status.name:<9} {status.state}  {status.address}  {status.detail}")
    settings = get_settings()
    applied = schema.init(settings)
    print(f"schema    ready ({len(applied)} migration(s) applied)")
    if not getattr(args, "no_sample", False):
        summary = ensure_sample(settings)
        if summary:
            print(f"sample    {summary}")
    print("airflow   starting (api-server, scheduler, dag-processor, triggerer)...", flush=True)
    airflow_local.up(settings)
    airflow_local.unpause_chain(settings, airflow_local.MONITOR_DAG_IDS)
    url = console_local.start(settings)
    run_id = trigger_first_run(settings)
    print(f"""
Everything is up.
  Console     {url}
  Airflow UI  {settings.airflow_api_url}
  Sign in     user {settings.airflow_username!r} with AIRFLOW_PASSWORD (from .env or the environment;
              the console asks for the same credentials before it triggers, pauses or clears)
  First run   {FIRST_DAG} / {run_id} (dag_3 and dag_4 follow on their assets)
  Logs        {state_dir() / 'logs'}
Stop it all with `medallion down`.""")
    warning = default_password_warning(settings)
    if warning:
        print(warning)
    return 0


def down(args: argparse.Namespace) -> int:
    """Stop the console, Airflow and the private services that `up` started."""
    stopped = []
    if console_local.stop():
        stopped.append("console")
    stopped += [f"airflow {c}" for c in airflow_local.down()]
    stopped += services.down()
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def status(args: argparse.Namespace) -> int:
    """One line per part of the product."""
    settings = get_settings()
    lines = []
    for s in services.status():
        lines.append((s.name, s.state, s.address))
    for c in airflow_local.status(settings):
        lines.append((f"airflow {c.name}", c.state, c.detail))
    console = console_local.status()
    lines.append(("console", console["state"], console["url"] or ""))
    width = max(len(n) for n, _, _ in lines)
    for name, state, detail in lines:
        print(f"{name.ljust(width)}  {state:<8} {detail}")
    return 0 if all(state == "up" for _, state, _ in lines) else 1
