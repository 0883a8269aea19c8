"""Anomaly flags: is this run's output normal compared with the runs before it?

Series, one value per run (`run` = the run_id each source records):

| metric          | layer  | subject               | value per run                                    |
| --------------- | ------ | --------------------- | ------------------------------------------------ |
| `rows_written`  | bronze | `bronze.<entity>`     | rows loaded by the run's files of that entity (`ops.ingestion_log`, loaded + rejected files; a rejected file counts 0) |
| `rows_written`  | silver, gold | the model       | `ops.model_runs.rows` of its successful build in the run |
| `rejected_rows` | silver | `silver.<entity>` + reason | `ops.entity_accounting.rejected_by_reason` (0 when a known reason is absent) |
| `quality_score` | any    | the layer             | `ops.dq_scores.score`                            |

A run's value is compared with the previous `ANOMALY_WINDOW_RUNS` values of its series
(see `baseline` for the band and its floor), once `ANOMALY_MIN_HISTORY_RUNS` exist. Rows
written are flagged both ways (a spike, a drop to zero); rejected rows only above (fewer
rejects is good news), quality scores only below.

Flags are upserted in `ops.anomalies` (one per run and series: a re-evaluation updates
them), alerted once (`alerted_at` is claimed before sending, so two evaluations never
both send), and closed as `recovered` when a later run of the series is back in bounds,
or `acknowledged` by a person (`acknowledge`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from etl import db
from etl.alerts import Alert, send_alert
from etl.observability.baseline import Baseline, robust_baseline
from etl.observability.notify import delivered
from etl.settings import Settings, get_settings

log = logging.getLogger(__name__)

METRICS = ("rows_written", "rejected_rows", "quality_score")
# Which side of the band is worth an operator's attention, per metric.
DIRECTIONS = {"rows_written": ("above", "below"), "rejected_rows": ("above",),
              "quality_score": ("below",)}


@dataclass(frozen=True)
class Point:
    """One run's value of one series."""

    layer: str
    subject: str
    metric: str
    reason: str
    run_id: str
    run_at: datetime
    value: float

    @property
    def series(self) -> tuple[str, str, str]:
        return self.subject, self.metric, self.reason


@dataclass(frozen=True)
class Anomaly:
    """One row of `ops.anomalies`."""

    anomaly_id: int
    run_id: str
    layer: str
    subject: str
    metric: str
    reason: str
    observed: float
    baseline_median: float
    baseline_mad: float
    lower_bound: float
    upper_bound: float
    history_runs: int
    direction: str
    run_at: datetime
    detected_at: datetime
    alerted_at: datetime | None
    resolved_at: datetime | None
    resolution: str | None
    resolved_by: str | None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def label(self) -> str:
        """What was measured, e.g. `silver.viewing_sessions rejected rows (orphan_user)`."""
        text = f"{self.subject} {self.metric.replace('_', ' ')}"
        return f"{text} ({self.reason})" if self.reason else text

    def describe(self) -> str:
        """One line for alerts and lists."""
        return (f"{self.label}: {_number(self.observed)}, {self.direction} the expected "
                f"{_number(self.lower_bound)} .. {_number(self.upper_bound)} (median "
                f"{_number(self.baseline_median)} of {self.history_runs} runs)")


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


# ------------------------------------------------------------------ reading the series

_POINTS = """
with model_points as (
    select distinct on (run_id, model)
           layer, model as subject, 'rows_written'::text as metric, ''::text as reason, run_id,
           coalesce(finished_at, started_at) as run_at, rows::float8 as value
    from ops.model_runs
    where status = 'success' and rows is not null and layer in ('silver', 'gold')
    order by run_id, model, finished_at desc nulls last
), bronze_points as (
    select 'bronze'::text, 'bronze.' || entity, 'rows_written'::text, ''::text, run_id,
           min(started_at),
           coalesce(sum(rows_loaded) filter (where status = 'loaded'), 0)::float8
    from ops.ingestion_log
    where run_id is not null and entity is not null and status in ('loaded', 'rejected')
    group by run_id, entity
), reasons as (
    select distinct a.entity, r.reason
    from ops.entity_accounting a, jsonb_object_keys(a.rejected_by_reason) as r(reason)
), rejected_points as (
    select 'silver'::text, 'silver.' || a.entity, 'rejected_rows'::text, r.reason, a.run_id,
           a.measured_at, coalesce((a.rejected_by_reason ->> r.reason)::float8, 0)
    from ops.entity_accounting a join reasons r on r.entity = a.entity
), score_points as (
    select layer, layer, 'quality_score'::text, ''::text, run_id, measured_at, score
    from ops.dq_scores
), points as (
    select * from model_points
    union all select * from bronze_points
    union all select * from rejected_points
    union all select * from score_points
), targets as (
    select subject, metric, reason, run_at as target_at from points where run_id = %(run_id)s
), chosen as (
    select p.* from points p where %(run_id)s::text is null
    union all
    select p.* from points p join targets t using (subject, metric, reason)
    where p.run_at <= t.target_at
), ranked as (
    select c.*, row_number() over (partition by subject, metric, reason
                                   order by run_at desc, run_id desc) as n
    from chosen c
)
select layer, subject, metric, reason, run_id, run_at, value from ranked
where n <= %(limit)s
  and (%(subject)s::text is null or subject = %(subject)s)
  and (%(metric)s::text is null or metric = %(metric)s)
order by subject, metric, reason, run_at, run_id
"""


def load_points(run_id: str | None = None, *, limit: int, subject: str | None = None,
                metric: str | None = None, settings: Settings | None = None) -> list[Point]:
    """The last `limit` values of every series (up to `run_id`'s value when given), oldest first."""
    with db.connect(settings or get_settings()) as conn:
        rows = conn.execute(_POINTS, {"run_id": run_id, "limit": limit, "subject": subject,
                                      "metric": metric}).fetchall()
    return [Point(*row) for row in rows]


def history(subject: str, metric: str, reason: str = "", *, limit: int = 100,
            settings: Settings | None = None) -> list[Point]:
    """The last `limit` values of one series, oldest first (for a chart with its band)."""
    points = load_points(limit=limit, subject=subject, metric=metric, settings=settings)
    return [p for p in points if p.reason == reason]


# ------------------------------------------------------------------ judging

@dataclass(frozen=True)
class Finding:
    """A value judged against its baseline; `direction` None means within bounds."""

    point: Point
    baseline: Baseline
    direction: str | None


def judge(points: Iterable[Point], settings: Settings, run_id: str | None = None) -> list[Finding]:
    """Judge the target value of each series (`run_id`'s, else the latest) against the
    values before it. Series with too little history are left out."""
    by_series: dict[tuple[str, str, str], list[Point]] = defaultdict(list)
    for point in points:
        by_series[point.series].append(point)
    findings = []
    for series in by_series.values():
        index = len(series) - 1
        if run_id is not None:
            index = max((i for i, p in enumerate(series) if p.run_id == run_id), default=-1)
            if index < 0:
                continue
        target = series[index]
        previous = [p.value for p in series[:index]][-settings.anomaly_window_runs:]
        if len(previous) < settings.anomaly_min_history_runs:
            continue
        # A score lives on a fixed 0..100 scale: a relative floor (10 % of 99) would hide a
        # fall from 99 to 90, so scores get the absolute floor in points only.
        if target.metric == "quality_score":
            relative, floor = 0.0, settings.anomaly_min_score_deviation
        else:
            relative = settings.anomaly_min_relative_deviation
            floor = settings.anomaly_min_absolute_deviation
        baseline = robust_baseline(previous, k=settings.anomaly_mad_k, min_relative=relative,
                                   min_absolute=floor)
        direction = baseline.direction(target.value)
        if direction not in DIRECTIONS[target.metric]:
            direction = None
        findings.append(Finding(target, baseline, direction))
    return findings


# ------------------------------------------------------------------ storing

_COLUMNS = """anomaly_id, run_id, layer, subject, metric, reason, observed, baseline_median,
              baseline_mad, lower_bound, upper_bound, history_runs, direction, run_at,
              detected_at, alerted_at, resolved_at, resolution, resolved_by"""

_UPSERT = f"""
insert into ops.anomalies (run_id, layer, subject, metric, reason, observed, baseline_median,
                           baseline_mad, lower_bound, upper_bound, history_runs, direction, run_at)
values (%(run_id)s, %(layer)s, %(subject)s, %(metric)s, %(reason)s, %(observed)s, %(median)s,
        %(mad)s, %(lower)s, %(upper)s, %(runs)s, %(direction)s, %(run_at)s)
on conflict (run_id, subject, metric, reason) do update set
    observed = excluded.observed, baseline_median = excluded.baseline_median,
    baseline_mad = excluded.baseline_mad, lower_bound = excluded.lower_bound,
    upper_bound = excluded.upper_bound, history_runs = excluded.history_runs,
    direction = excluded.direction, run_at = excluded.run_at
returning {_COLUMNS}
"""

_RECOVER = """
update ops.anomalies set resolved_at = now(), resolution = 'recovered', resolved_by = %(run_id)s
where subject = %(subject)s and metric = %(metric)s and reason = %(reason)s
  and resolved_at is null and run_at < %(run_at)s
"""


def _store(findings: list[Finding], settings: Settings) -> list[Anomaly]:
    flagged: list[Anomaly] = []
    recovered = 0
    with db.transaction(settings) as conn:
        for finding in findings:
            p, b = finding.point, finding.baseline
            if finding.direction is None:
                recovered += conn.execute(_RECOVER, {
                    "run_id": p.run_id, "subject": p.subject, "metric": p.metric,
                    "reason": p.reason, "run_at": p.run_at}).rowcount
                continue
            row = conn.execute(_UPSERT, {
                "run_id": p.run_id, "layer": p.layer, "subject": p.subject, "metric": p.metric,
                "reason": p.reason, "observed": p.value, "median": b.median, "mad": b.mad,
                "lower": b.lower, "upper": b.upper, "runs": b.runs,
                "direction": finding.direction, "run_at": p.run_at}).fetchone()
            flagged.append(Anomaly(*row))
    if recovered:
        log.info("%d anomal%s recovered (a later run back within bounds)", recovered,
                 "y" if recovered == 1 else "ies")
    return flagged


# ------------------------------------------------------------------ alerting

def _claim_unalerted(settings: Settings) -> list[Anomaly]:
    """Open anomalies not alerted yet, marked alerted in the same statement: an anomaly is
    claimed by one evaluation only, so it is never sent twice."""
    with db.transaction(settings) as conn:
        rows = conn.execute(
            f"""update ops.anomalies set alerted_at = now()
                where alerted_at is null and resolved_at is null
                returning {_COLUMNS}""").fetchall()
    return [Anomaly(*row) for row in rows]


def _release(anomaly_ids: list[int], settings: Settings) -> None:
    with db.transaction(settings) as conn:
        conn.execute("update ops.anomalies set alerted_at = null where anomaly_id = any(%s)",
                     (anomaly_ids,))


def alert_new(settings: Settings | None = None) -> int:
    """Send one alert per run for its open anomalies not alerted yet; returns how many
    anomalies were alerted. When every configured channel fails, they stay unalerted and
    the next evaluation tries again."""
    settings = settings or get_settings()
    claimed = _claim_unalerted(settings)
    by_run: dict[str, list[Anomaly]] = defaultdict(list)
    for anomaly in claimed:
        by_run[anomaly.run_id].append(anomaly)
    sent = 0
    for run_id, found in by_run.items():
        found.sort(key=lambda a: (a.layer, a.subject, a.metric, a.reason))
        alert = Alert(
            title=f"{len(found)} anomal{'y' if len(found) == 1 else 'ies'} in run {run_id}",
            run_id=run_id,
            extra={f"{i}.": a.describe() for i, a in enumerate(found, 1)},
        )
        if delivered(send_alert(alert, settings)):
            sent += len(found)
        else:
            log.warning("anomaly alert for run %s was not delivered; it will be retried", run_id)
            _release([a.anomaly_id for a in found], settings)
    return sent


# ------------------------------------------------------------------ the API

def detect(run_id: str | None = None, settings: Settings | None = None, *,
           alert: bool = True) -> list[Anomaly]:
    """Judge `run_id`'s values (default: the latest value of every series), store the flags
    in ops.anomalies, close the flags of series back within bounds, and alert new flags
    once. Returns the anomalies found by this evaluation (their stored rows)."""
    settings = settings or get_settings()
    points = load_points(run_id, limit=settings.anomaly_window_runs + 1, settings=settings)
    findings = judge(points, settings, run_id)
    flagged = _store(findings, settings)
    log.info("anomaly detection%s: %d series judged, %d flagged", f" of run {run_id}"
             if run_id else "", len(findings), len(flagged))
    for anomaly in flagged:
        log.warning("anomaly in run %s: %s", anomaly.run_id, anomaly.describe())
    if alert and flagged:
        alert_new(settings)
        flagged = _reread([a.anomaly_id for a in flagged], settings)
    return flagged


def _reread(anomaly_ids: list[int], settings: Settings) -> list[Anomaly]:
    with db.connect(settings) as conn:
        rows = conn.execute(f"select {_COLUMNS} from ops.anomalies where anomaly_id = any(%s) "
                            "order by run_at desc, anomaly_id desc", (anomaly_ids,)).fetchall()
    return [Anomaly(*row) for row in rows]


def list_anomalies(*, open_only: bool = False, layer: str | None = None,
                   subject: str | None = None, metric: str | None = None,
                   run_id: str | None = None, limit: int = 200,
                   settings: Settings | None = None) -> list[Anomaly]:
    """Stored anomalies, newest run first, filtered as asked (for the Volumes and Data
    quality pages: `layer=` / `subject=` / `metric=`)."""
    with db.connect(settings or get_settings()) as conn:
        rows = conn.execute(
            f"""select {_COLUMNS} from ops.anomalies
                where (not %(open)s or resolved_at is null)
                  and (%(layer)s::text is null or layer = %(layer)s)
                  and (%(subject)s::text is null or subject = %(subject)s)
                  and (%(metric)s::text is null or metric = %(metric)s)
                  and (%(run_id)s::text is null or run_id = %(run_id)s)
                order by run_at desc, anomaly_id desc limit %(limit)s""",
            {"open": open_only, "layer": layer, "subject": subject, "metric": metric,
             "run_id": run_id, "limit": limit}).fetchall()
    return [Anomaly(*row) for row in rows]


def open_anomalies(*, layer: str | None = None, settings: Settings | None = None) -> list[Anomaly]:
    """What needs attention: anomalies neither recovered nor acknowledged, newest first."""
    return list_anomalies(open_only=True, layer=layer, settings=settings)


def acknowledge(anomaly_id: int, *, by: str, settings: Settings | None = None) -> bool:
    """Close an open anomaly on a person's word; False when it was not open."""
    with db.transaction(settings or get_settings()) as conn:
        done = conn.execute(
            """update ops.anomalies set resolved_at = now(), resolution = 'acknowledged',
                      resolved_by = %s
               where anomaly_id = %s and resolved_at is null""", (by, anomaly_id)).rowcount
    if done:
        log.info("anomaly %s acknowledged by %s", anomaly_id, by)
    return bool(done)
