"""Freshness: is each gold table younger than it should be?

A gold table's age is now minus its last successful build (`ops.model_runs.finished_at`,
status 'success'); its limit is GOLD_MAX_AGE_HOURS, or its GOLD_MAX_AGE_OVERRIDES entry.
A table never built successfully is stale. The gold tables are the models of `sql/gold/`
(`etl.sql_runner.discover`), never a hand-written list.

`table_ages` only reads (for pages). `check_freshness` also records breaches in
`ops.freshness_breaches`: a table that turns stale opens one breach (at most one open
per table) and raises one alert; when it is fresh again the breach is closed with
`recovered_at` (the build that ended it) and, if the breach was alerted, one recovery
notice is sent. Alerts are claimed before sending, so two checks never both send.

Freshness is about time passing with no run, so it must also be checked on a schedule,
not only at the end of a run (see the report of this change for the DAG wiring).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from etl import db
from etl.alerts import Alert, send_alert
from etl.observability.notify import delivered
from etl.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableFreshness:
    """One gold table's age against its limit, and its open breach if any."""

    table_name: str
    last_built_at: datetime | None
    age_hours: float | None          # None when never built
    max_age_hours: float
    breach_id: int | None = None     # the open breach (after check_freshness, or as stored)
    breached_at: datetime | None = None

    @property
    def is_stale(self) -> bool:
        return self.age_hours is None or self.age_hours > self.max_age_hours

    def describe(self) -> str:
        if self.last_built_at is None:
            return f"{self.table_name} has never been built (limit {self.max_age_hours:g} h)"
        return (f"{self.table_name} last built {self.last_built_at:%Y-%m-%d %H:%M} UTC, "
                f"{self.age_hours:.1f} h ago (limit {self.max_age_hours:g} h)")


@dataclass(frozen=True)
class Breach:
    """One row of `ops.freshness_breaches`."""

    breach_id: int
    table_name: str
    max_age_hours: float
    last_built_at: datetime | None
    breached_at: datetime
    detected_at: datetime
    alerted_at: datetime | None
    recovered_at: datetime | None
    recovery_alerted_at: datetime | None


_BREACH_COLUMNS = """breach_id, table_name, max_age_hours, last_built_at, breached_at,
                     detected_at, alerted_at, recovered_at, recovery_alerted_at"""


def gold_tables() -> list[str]:
    """The gold tables, from the models of sql/gold/."""
    from etl import sql_runner

    return sorted(model.name for model in sql_runner.discover(("gold",)))


def _now(now: datetime | None) -> datetime:
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    return now


def table_ages(*, now: datetime | None = None, settings: Settings | None = None) -> list[TableFreshness]:
    """Each gold table's age against its limit and its open breach; reads only."""
    settings = settings or get_settings()
    now = _now(now)
    tables = gold_tables()
    with db.connect(settings) as conn:
        built = dict(conn.execute(
            """select model, max(finished_at) from ops.model_runs
               where layer = 'gold' and status = 'success' and finished_at is not null
                 and model = any(%s)
               group by model""", (tables,)).fetchall())
        open_breaches = {row[0]: row[1:] for row in conn.execute(
            """select table_name, breach_id, breached_at from ops.freshness_breaches
               where recovered_at is null""")}
    ages = []
    for table in tables:
        last = built.get(table)
        age = None if last is None else max(0.0, (now - last).total_seconds() / 3600)
        breach_id, breached_at = open_breaches.get(table, (None, None))
        ages.append(TableFreshness(table, last, age, settings.gold_max_age_for(table),
                                   breach_id, breached_at))
    return ages


def _open_breach(conn, table: TableFreshness, now: datetime) -> None:
    breached_at = (now if table.last_built_at is None
                   else table.last_built_at + timedelta(hours=table.max_age_hours))
    conn.execute(
        """insert into ops.freshness_breaches (table_name, max_age_hours, last_built_at,
                                               breached_at, detected_at)
           values (%s, %s, %s, %s, %s)
           on conflict (table_name) where recovered_at is null do nothing""",
        (table.table_name, table.max_age_hours, table.last_built_at, breached_at, now))


def _close_breach(conn, table: TableFreshness, now: datetime) -> int:
    """Close the table's open breach; recovered at the build that ended it (or now, when the
    limit was raised instead)."""
    return conn.execute(
        """update ops.freshness_breaches set recovered_at = case
               when %(built)s::timestamptz is not null
                    and (last_built_at is null or %(built)s > last_built_at)
               then least(%(built)s, %(now)s) else %(now)s end
           where table_name = %(table)s and recovered_at is null""",
        {"built": table.last_built_at, "now": now, "table": table.table_name}).rowcount


def _record(ages: list[TableFreshness], now: datetime, settings: Settings) -> None:
    opened = closed = 0
    with db.transaction(settings) as conn:
        for table in ages:
            if table.is_stale and table.breach_id is None:
                _open_breach(conn, table, now)
                opened += 1
                log.warning("freshness breach: %s", table.describe())
            elif not table.is_stale and table.breach_id is not None:
                closed += _close_breach(conn, table, now)
                log.info("freshness recovered: %s", table.describe())
    if opened or closed:
        log.info("freshness: %d breach(es) opened, %d closed", opened, closed)


# Claiming marks the rows alerted in the statement that selects them: one check only
# sends each alert. Releasing undoes it when no channel took the alert.
_CLAIM = {
    "breach": f"""update ops.freshness_breaches set alerted_at = now()
                  where alerted_at is null and recovered_at is null
                  returning {_BREACH_COLUMNS}""",
    "recovery": f"""update ops.freshness_breaches set recovery_alerted_at = now()
                    where recovery_alerted_at is null and recovered_at is not null
                      and alerted_at is not null
                    returning {_BREACH_COLUMNS}""",
}
_RELEASE = {
    "breach": "update ops.freshness_breaches set alerted_at = null where breach_id = any(%s)",
    "recovery": "update ops.freshness_breaches set recovery_alerted_at = null "
                "where breach_id = any(%s)",
}


def _alert_line(kind: str, breach: Breach, table: TableFreshness | None) -> str:
    if kind == "breach":
        return table.describe() if table else breach.table_name
    return (f"{breach.table_name} rebuilt at {breach.recovered_at:%Y-%m-%d %H:%M} UTC "
            f"(stale since {breach.breached_at:%Y-%m-%d %H:%M} UTC)")


def _alert(kind: str, settings: Settings, tables: dict[str, TableFreshness]) -> int:
    """One alert for the breaches (or recoveries) not alerted yet; returns how many."""
    with db.transaction(settings) as conn:
        claimed = sorted((Breach(*row) for row in conn.execute(_CLAIM[kind]).fetchall()),
                         key=lambda b: b.table_name)
    if not claimed:
        return 0
    n = len(claimed)
    title = (f"{n} gold table{'s' if n > 1 else ''} "
             + ("older than allowed" if kind == "breach" else "fresh again"))
    lines = {f"{i}.": _alert_line(kind, b, tables.get(b.table_name))
             for i, b in enumerate(claimed, 1)}
    if delivered(send_alert(Alert(title=title, extra=lines), settings)):
        return n
    log.warning("freshness %s alert was not delivered; it will be retried", kind)
    with db.transaction(settings) as conn:
        conn.execute(_RELEASE[kind], ([b.breach_id for b in claimed],))
    return 0


def check_freshness(*, now: datetime | None = None, settings: Settings | None = None,
                    alert: bool = True) -> list[TableFreshness]:
    """Each gold table's age against its limit; opens a breach (one alert) for a table that
    turned stale and closes it (one recovery notice) when the table is fresh again.
    Returns the tables as they stand after recording, stale ones first."""
    settings = settings or get_settings()
    now = _now(now)
    ages = table_ages(now=now, settings=settings)
    _record(ages, now, settings)
    ages = table_ages(now=now, settings=settings)
    if alert:
        by_table = {t.table_name: t for t in ages}
        _alert("breach", settings, by_table)
        _alert("recovery", settings, by_table)
    stale = sum(t.is_stale for t in ages)
    log.info("freshness: %d gold table(s), %d stale", len(ages), stale)
    return sorted(ages, key=lambda t: (not t.is_stale, t.table_name))


def list_breaches(*, open_only: bool = False, limit: int = 100,
                  settings: Settings | None = None) -> list[Breach]:
    """Recorded breaches, latest first (open ones only when asked)."""
    with db.connect(settings or get_settings()) as conn:
        rows = conn.execute(
            f"""select {_BREACH_COLUMNS} from ops.freshness_breaches
                where (not %(open)s or recovered_at is null)
                order by breached_at desc, breach_id desc limit %(limit)s""",
            {"open": open_only, "limit": limit}).fetchall()
    return [Breach(*row) for row in rows]
