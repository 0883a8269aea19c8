"""Freshness of the gold tables with an injected clock: a breach opens once and alerts
once, recovery closes it and sends one notice, limits follow the settings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from etl import db
from etl.alerts import AlertResult
from etl.observability import freshness

T0 = datetime(2026, 3, 1, 6, tzinfo=timezone.utc)


def _build(settings, at: datetime, tables=None, status="success") -> None:
    with db.transaction(settings) as conn:
        for table in tables or freshness.gold_tables():
            conn.execute(
                """insert into ops.model_runs (run_id, model, layer, started_at, finished_at, rows,
                                               status) values (%s, %s, 'gold', %s, %s, 1, %s)""",
                (f"cli:{at:%Y%m%dT%H%M}", table, at - timedelta(minutes=1), at, status))


@pytest.fixture
def sent(monkeypatch):
    alerts = []
    monkeypatch.setattr(freshness, "send_alert",
                        lambda alert, settings: alerts.append(alert) or AlertResult(None, True))
    return alerts


def _by_table(ages):
    return {t.table_name: t for t in ages}


def test_the_gold_tables_are_the_models_of_sql_gold():
    tables = freshness.gold_tables()
    assert "gold.kpi_summary" in tables and "gold.fact_viewing" in tables
    assert all(t.startswith("gold.") for t in tables)


def test_fresh_tables_raise_nothing(medallion_db, sent):
    _build(medallion_db, T0)
    ages = freshness.check_freshness(now=T0 + timedelta(hours=3), settings=medallion_db)
    assert ages and not any(t.is_stale for t in ages)
    assert {t.age_hours for t in ages} == {3.0} and {t.max_age_hours for t in ages} == {26.0}
    assert sent == [] and freshness.list_breaches(settings=medallion_db) == []


def test_a_breach_alerts_once_and_recovery_is_noted_once(medallion_db, sent):
    _build(medallion_db, T0)
    late = T0 + timedelta(hours=30)
    ages = freshness.check_freshness(now=late, settings=medallion_db)
    freshness.check_freshness(now=late + timedelta(hours=1), settings=medallion_db)

    assert all(t.is_stale and t.breach_id is not None for t in ages)
    assert ages[0].breached_at == T0 + timedelta(hours=26)
    (alert,) = sent
    assert "older than allowed" in alert.title
    assert any("gold.kpi_summary last built 2026-03-01 06:00 UTC, 30.0 h ago (limit 26 h)" == line
               for line in alert.extra.values())
    breaches = freshness.list_breaches(open_only=True, settings=medallion_db)
    assert len(breaches) == len(ages) and all(b.alerted_at for b in breaches)

    rebuilt = late + timedelta(hours=2)
    _build(medallion_db, rebuilt)
    ages = freshness.check_freshness(now=rebuilt + timedelta(minutes=5), settings=medallion_db)
    freshness.check_freshness(now=rebuilt + timedelta(minutes=10), settings=medallion_db)

    assert not any(t.is_stale or t.breach_id for t in ages)
    assert len(sent) == 2 and "fresh again" in sent[1].title
    closed = freshness.list_breaches(settings=medallion_db)
    assert len(closed) == len(ages)
    assert {b.recovered_at for b in closed} == {rebuilt} and all(b.recovery_alerted_at for b in closed)
    assert freshness.list_breaches(open_only=True, settings=medallion_db) == []


def test_a_second_breach_after_recovery_is_a_new_one(medallion_db, sent):
    _build(medallion_db, T0, ["gold.kpi_summary"])
    freshness.check_freshness(now=T0 + timedelta(hours=27), settings=medallion_db)
    _build(medallion_db, T0 + timedelta(hours=28), ["gold.kpi_summary"])
    freshness.check_freshness(now=T0 + timedelta(hours=29), settings=medallion_db)
    freshness.check_freshness(now=T0 + timedelta(hours=60), settings=medallion_db)
    kpi = [b for b in freshness.list_breaches(settings=medallion_db)
           if b.table_name == "gold.kpi_summary"]
    assert len(kpi) == 2 and kpi[0].recovered_at is None and kpi[1].recovered_at is not None


def test_never_built_and_failed_builds_are_stale(medallion_db, sent):
    _build(medallion_db, T0, ["gold.kpi_summary"], status="failed")
    ages = _by_table(freshness.table_ages(now=T0, settings=medallion_db))
    assert ages["gold.kpi_summary"].last_built_at is None and ages["gold.kpi_summary"].is_stale
    assert ages["gold.kpi_summary"].age_hours is None
    assert freshness.list_breaches(settings=medallion_db) == []  # table_ages only reads


def test_per_table_limits_come_from_the_settings(medallion_db, sent):
    settings = medallion_db.model_copy(update={"gold_max_age_overrides": "kpi_summary=2",
                                               "gold_max_age_hours": 48.0})
    _build(settings, T0)
    ages = _by_table(freshness.check_freshness(now=T0 + timedelta(hours=3), settings=settings))
    assert ages["gold.kpi_summary"].is_stale and ages["gold.kpi_summary"].max_age_hours == 2
    assert not ages["gold.fact_viewing"].is_stale and ages["gold.fact_viewing"].max_age_hours == 48
    (alert,) = sent
    assert alert.title == "1 gold table older than allowed"


def test_an_undelivered_breach_alert_is_retried(medallion_db, monkeypatch):
    answers = iter([AlertResult(email=False, slack=None), AlertResult(email=True, slack=None)])
    monkeypatch.setattr(freshness, "send_alert", lambda alert, settings: next(answers))
    _build(medallion_db, T0, ["gold.kpi_summary"])
    settings = medallion_db.model_copy(update={"gold_max_age_overrides": "kpi_summary=1"})
    freshness.check_freshness(now=T0 + timedelta(hours=2), settings=settings)
    assert freshness.list_breaches(settings=settings)[0].alerted_at is None
    freshness.check_freshness(now=T0 + timedelta(hours=3), settings=settings)
    assert freshness.list_breaches(settings=settings)[0].alerted_at is not None


def test_a_naive_clock_is_refused(medallion_db):
    with pytest.raises(ValueError, match="timezone-aware"):
        freshness.table_ages(now=datetime(2026, 1, 1), settings=medallion_db)
