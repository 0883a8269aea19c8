"""`medallion`: the command line of the product. Everything the DAGs do, the CLI can do.

Each subcommand is thin: it parses arguments, calls one `etl` function and
prints a readable report. Errors the pipeline raises on purpose (MedallionError)
become one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from pathlib import Path

from etl import __version__
from etl.errors import MedallionError, QualityGateFailed
from etl.logging import configure

log = logging.getLogger("medallion")


def _table(rows: list[dict], columns: list[str]) -> str:
    """A plain-text table (no dependency) for reports."""
    if not rows:
        return "(none)"
    widths = {c: max(len(c), *(len(_cell(r.get(c))) for r in rows)) for c in columns}
    line = "  ".join(c.ljust(widths[c]) for c in columns)
    sep = "  ".join("-" * widths[c] for c in columns)
    body = ["  ".join(_cell(r.get(c)).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join([line, sep, *body])


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    text = str(value).replace("\n", " ")
    return text if len(text) <= 100 else text[:97] + "..."


# ------------------------------------------------------------------ handlers

def cmd_services(args: argparse.Namespace) -> int:
    from stack import services

    if args.action == "up":
        statuses = services.up()
    elif args.action == "down":
        stopped = services.down()
        print("stopped: " + (", ".join(stopped) if stopped else "nothing (no private service was running)"))
        return 0
    else:
        statuses = services.status()
    print(_table([s.__dict__ for s in statuses], ["name", "state", "address", "managed", "detail"]))
    return 0 if all(s.state == "up" for s in statuses) else 1


def cmd_init(args: argparse.Namespace) -> int:
    from etl import schema

    applied = schema.init(mongo=not args.no_mongo)
    if applied:
        print(f"applied {len(applied)} migration(s): {', '.join(applied)}")
    else:
        print("schema is up to date (nothing to apply)")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from etl import synth

    return synth.main(args)


def cmd_ingest(args: argparse.Namespace) -> int:
    from etl.ingest import command

    return command.main(args)


def cmd_transform(args: argparse.Namespace) -> int:
    from etl import transform

    return transform.main(args)


def cmd_check(args: argparse.Namespace) -> int:
    from etl import quality

    return quality.main(args)


def cmd_run(args: argparse.Namespace) -> int:
    from etl import pipeline

    return pipeline.main(args)


def cmd_anomalies(args: argparse.Namespace) -> int:
    from etl.observability import command

    return command.anomalies_main(args)


def cmd_freshness(args: argparse.Namespace) -> int:
    from etl.observability import command

    return command.freshness_main(args)


def cmd_diff(args: argparse.Namespace) -> int:
    from etl.observability import command

    return command.diff_main(args)


# The local stack (services, Airflow, console) is supervised by the `stack` package, which
# lives beside the pipeline; these commands only hand over to it.

def cmd_airflow(args: argparse.Namespace) -> int:
    from stack import airflow_local

    return airflow_local.main(args)


def cmd_console(args: argparse.Namespace) -> int:
    from stack import console_local

    return console_local.main(args)


def cmd_up(args: argparse.Namespace) -> int:
    from stack import product

    return product.up(args)


def cmd_down(args: argparse.Namespace) -> int:
    from stack import product

    return product.down(args)


def cmd_status(args: argparse.Namespace) -> int:
    from stack import product

    return product.status(args)


# ------------------------------------------------------------------ parser

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medallion",
        description="Land raw files into bronze, clean them into silver, aggregate gold KPIs, "
                    "score quality with Soda, and run it all on Airflow.",
    )
    parser.add_argument("--version", action="version", version=f"medallion {__version__}")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO (default), WARNING, ERROR")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("services", help="start, stop or show PostgreSQL and MongoDB",
                       description="PostgreSQL and MongoDB: the configured servers when they answer, "
                                   "otherwise private ones under .medallion/.")
    p.add_argument("action", choices=["up", "down", "status"])
    p.set_defaults(func=cmd_services)

    p = sub.add_parser("init", help="create the layer schemas, tables and indexes (idempotent)",
                       description="Apply pending DDL migrations (sql/migrations) and create the "
                                   "MongoDB collection bronze_content_json.")
    p.add_argument("--no-mongo", action="store_true", help="skip the MongoDB collection")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("generate", help="write realistic, dirty raw files for the pipeline",
                       description="Generate contract-conformant raw files (deterministic for a seed).")
    p.add_argument("--out", type=Path, default=None, help="output folder (default RAW_DATA_PATH)")
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--sessions", type=int, default=20000)
    p.add_argument("--contents", type=int, default=300)
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--dirty-rate", type=float, default=0.02,
                   help="share of rows given a defect the contract handles (0..1)")
    p.add_argument("--end-date", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                   help="last day of viewing (default: a fixed date, so a seed always gives the same bytes)")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("ingest", help="load raw files into bronze (PostgreSQL + MongoDB)",
                       description="Discover, validate and load raw files; prints a per-file table. "
                                   "Rejected files are reported; exit 0 unless --strict.")
    p.add_argument("--raw-dir", type=Path, default=None, help="overrides RAW_DATA_PATH for this run")
    p.add_argument("--strict", action="store_true", help="exit non-zero when a file is rejected")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("transform", help="build silver and gold from bronze",
                       description="Run the SQL models of sql/silver and sql/gold in dependency order.")
    p.add_argument("--full-refresh", action="store_true", help="rebuild everything from all of bronze")
    p.add_argument("--layer", choices=["silver", "gold"], default=None, help="only this layer")
    p.set_defaults(func=cmd_transform)

    p = sub.add_parser("check", help="run the Soda checks and print scores per layer",
                       description="Run the SodaCL checks of checks/<layer>, persist results and scores.")
    p.add_argument("--layer", choices=["bronze", "silver", "gold"], default=None)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("run", help="init + ingest + transform + checks, in one go",
                       description="The whole pipeline once, with the critical quality gate.")
    p.add_argument("--raw-dir", type=Path, default=None, help="overrides RAW_DATA_PATH for this run")
    p.add_argument("--full-refresh", action="store_true")
    p.add_argument("--skip-checks", action="store_true", help="do not run the Soda checks")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("anomalies", help="flag unusual row counts, rejects and scores; list open ones",
                       description="Judge each series (rows written per table, rejected rows per "
                                   "reason, quality score per layer) against median ± k·MAD of its "
                                   "previous runs, store and alert new flags once, then list the "
                                   "open ones.")
    p.add_argument("--run", default=None, metavar="RUN_ID",
                   help="judge this run (default: the latest run of each series)")
    p.add_argument("--no-detect", action="store_true", help="only list, judge nothing")
    p.add_argument("--no-alert", action="store_true", help="store flags but send no alert")
    p.add_argument("--all", action="store_true", help="list resolved anomalies too")
    p.add_argument("--limit", type=int, default=50, help="list at most this many (default 50)")
    p.add_argument("--strict", action="store_true", help="exit 1 when an anomaly is open")
    p.set_defaults(func=cmd_anomalies)

    p = sub.add_parser("freshness", help="age of each gold table against its limit",
                       description="Age of each gold table (since its last successful build) "
                                   "against GOLD_MAX_AGE_HOURS / GOLD_MAX_AGE_OVERRIDES; records "
                                   "breaches and recoveries and alerts each once.")
    p.add_argument("--no-alert", action="store_true", help="record breaches but send no alert")
    p.add_argument("--strict", action="store_true", help="exit 1 when a table is stale")
    p.set_defaults(func=cmd_freshness)

    p = sub.add_parser("diff", help="what changed between two pipeline runs",
                       description="Gold KPIs, rows per table, checks whose outcome flipped and "
                                   "files that arrived between two runs of ops.pipeline_runs "
                                   "(with one run: since its previous successful run).")
    p.add_argument("run_a", metavar="RUN_A")
    p.add_argument("run_b", metavar="RUN_B", nargs="?", default=None)
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("airflow", help="start, stop or show the local Airflow 3 components",
                       description="api-server, scheduler, dag-processor and triggerer as separate "
                                   "processes (metadata in PostgreSQL); LocalExecutor, or Celery "
                                   "workers on CELERY_BROKER_URL with --executor celery.")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--executor", choices=["local", "celery"], default=None,
                   help="LocalExecutor or CeleryExecutor workers (default: MEDALLION_EXECUTOR, local)")
    p.add_argument("--workers", type=int, default=None,
                   help="Celery workers to start (default: MEDALLION_CELERY_WORKERS, 2)")
    p.add_argument("--concurrency", type=int, default=None,
                   help="tasks one Celery worker runs at once (default: MEDALLION_WORKER_CONCURRENCY, 2)")
    p.set_defaults(func=cmd_airflow)

    p = sub.add_parser("console", help="start, stop or show the Streamlit console",
                       description="The operations console (Streamlit) on CONSOLE_PORT.")
    p.add_argument("action", choices=["up", "down", "status"], nargs="?", default="up")
    p.set_defaults(func=cmd_console)

    p = sub.add_parser("up", help="the whole product: services, schema, Airflow, console, first run",
                       description="Bring everything up, generate a sample when the raw folder is "
                                   "empty, trigger the first run, print the addresses.")
    p.add_argument("--no-sample", action="store_true", help="never generate a sample")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("down", help="stop everything `medallion up` started")
    p.set_defaults(func=cmd_down)

    p = sub.add_parser("status", help="show the state of each part of the product")
    p.set_defaults(func=cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `medallion` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure(args.log_level)
    try:
        return int(args.func(args) or 0)
    except QualityGateFailed as exc:
        print(f"error: quality gate failed: {exc}", file=sys.stderr)
        return 4
    except MedallionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one case is told in a line, the rest re-raised
        if getattr(exc, "sqlstate", None) not in _NO_SCHEMA:
            raise
        print(f"error: the database has no medallion schema yet "
              f"({str(exc).strip().splitlines()[0]}): run `medallion init` first", file=sys.stderr)
        return 2


# undefined_table, invalid_schema_name: a command run before `medallion init`
_NO_SCHEMA = ("42P01", "3F000")


if __name__ == "__main__":
    sys.exit(main())
