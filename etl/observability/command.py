"""CLI handlers of `medallion anomalies`, `medallion freshness` and `medallion diff`."""

from __future__ import annotations

import argparse

from etl.cli import _table


def _when(value) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M}"


def anomalies_main(args: argparse.Namespace) -> int:
    """Judge (unless --no-detect), then list open anomalies (all with --all)."""
    from etl.observability import anomalies

    if not args.no_detect:
        found = anomalies.detect(args.run, alert=not args.no_alert)
        print(f"detection{' of run ' + args.run if args.run else ''}: {len(found)} anomal"
              f"{'y' if len(found) == 1 else 'ies'} flagged")
    listed = anomalies.list_anomalies(open_only=not args.all, limit=args.limit)
    rows = [{"id": a.anomaly_id, "run": a.run_id, "run at": _when(a.run_at), "what": a.label,
             "observed": a.observed, "expected": f"{a.lower_bound:,.2f} .. {a.upper_bound:,.2f}",
             "dir": a.direction, "alerted": _when(a.alerted_at),
             "state": a.resolution or "open"} for a in listed]
    print(("open anomalies" if not args.all else "anomalies") + ":")
    print(_table(rows, ["id", "run", "run at", "what", "observed", "expected", "dir", "alerted",
                        "state"]))
    return 1 if args.strict and any(a.is_open for a in listed) else 0


def freshness_main(args: argparse.Namespace) -> int:
    """Each gold table's age against its limit; records and alerts breaches."""
    from etl.observability import freshness

    tables = freshness.check_freshness(alert=not args.no_alert)
    rows = [{"table": t.table_name, "last built (UTC)": _when(t.last_built_at),
             "age h": t.age_hours, "limit h": t.max_age_hours,
             "state": "STALE" if t.is_stale else "fresh",
             "stale since": _when(t.breached_at)} for t in tables]
    print(_table(rows, ["table", "last built (UTC)", "age h", "limit h", "state", "stale since"]))
    return 1 if args.strict and any(t.is_stale for t in tables) else 0


def _number(value) -> str:
    if value is None:
        return ""
    return f"{value:,.4g}" if isinstance(value, float) else str(value)


def diff_main(args: argparse.Namespace) -> int:
    """What changed between two runs (or between a run and its previous one)."""
    from etl.errors import TerminalError
    from etl.observability import changes

    run_a, run_b = args.run_a, args.run_b
    if run_b is None:
        run_b, run_a = run_a, changes.previous_run(run_a)
        if run_a is None:
            raise TerminalError(f"run {run_b!r} has no previous successful run of its kind to "
                                "compare with: name both runs")
    d = changes.diff(run_a, run_b)
    print(f"before: {d.before.run_id} ({d.before.status}, started {_when(d.before.started_at)})")
    print(f"after:  {d.after.run_id} ({d.after.status}, started {_when(d.after.started_at)})")
    print("\ngold KPIs:" + ("" if d.has_kpis else " (a run has no KPI snapshot)"))
    print(_table([{"kpi": k.name, "before": _number(k.before), "after": _number(k.after),
                   "change": _number(k.delta),
                   "change %": "" if k.delta_pct is None else f"{k.delta_pct:+.2f}"}
                  for k in d.kpis], ["kpi", "before", "after", "change", "change %"]))
    print("\nrows written:")
    print(_table([{"table": t.table_name, "before": t.before, "after": t.after, "change": t.delta}
                  for t in [*d.layers, *d.tables]], ["table", "before", "after", "change"]))
    print("\nchecks whose outcome flipped:")
    print(_table([{"table": c.table_name, "check": c.check_name, "before": c.before,
                   "after": c.after} for c in d.checks], ["table", "check", "before", "after"]))
    print("\nfiles that arrived between them:")
    print(_table([{"file": f.source_file, "entity": f.entity, "status": f.status,
                   "rows": f.rows_loaded, "at (UTC)": _when(f.started_at), "run": f.run_id}
                  for f in d.files], ["file", "entity", "status", "rows", "at (UTC)", "run"]))
    return 0
