"""Anomaly flags over synthetic run histories written into the ops tables of a throwaway
database: spikes and drops are flagged and alerted once (to a real local webhook), slow
drift is not, a run back within bounds closes the flag."""

from __future__ import annotations

import json
import random
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import SecretStr

from etl import db
from etl.alerts import AlertResult
from etl.observability import anomalies

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def _run(i: int) -> tuple[str, datetime]:
    return f"cli:run-{i:03d}", T0 + timedelta(hours=6 * i)


def _model_run(conn, i: int, model: str, rows: float, status: str = "success") -> None:
    run_id, at = _run(i)
    conn.execute(
        """insert into ops.model_runs (run_id, model, layer, started_at, finished_at, rows, status)
           values (%s, %s, %s, %s, %s, %s, %s)""",
        (run_id, model, model.split(".")[0], at, at + timedelta(seconds=30), int(rows), status))


def _file(conn, i: int, entity: str, rows: float, status: str = "loaded") -> None:
    run_id, at = _run(i)
    conn.execute(
        """insert into ops.ingestion_log (source_file, sha256, entity, status, rows_loaded, encoding,
                                          error, started_at, finished_at, run_id)
           values (%s, %s, %s, %s, %s, 'utf-8', %s, %s, %s, %s)""",
        (f"{entity}_{i:03d}.csv", f"{entity}{i:060d}", entity, status,
         int(rows) if status == "loaded" else 0, "bad header" if status == "rejected" else None,
         at, at + timedelta(seconds=5), run_id))


def _accounting(conn, i: int, entity: str, reasons: dict[str, int]) -> None:
    run_id, at = _run(i)
    conn.execute(
        """insert into ops.entity_accounting (run_id, entity, bronze_rows, silver_rows,
                                              superseded_rows, rejected_rows, rejected_by_reason,
                                              measured_at)
           values (%s, %s, 0, 0, 0, %s, %s::jsonb, %s)""",
        (run_id, entity, sum(reasons.values()), json.dumps(reasons), at + timedelta(minutes=1)))


def _score(conn, i: int, layer: str, score: float) -> None:
    run_id, at = _run(i)
    conn.execute(
        """insert into ops.dq_scores (run_id, layer, score, measured_at, checks_total, checks_pass,
                                      checks_warn, checks_fail) values (%s, %s, %s, %s, 10, 10, 0, 0)""",
        (run_id, layer, score, at + timedelta(minutes=2)))


def _noisy(rng: random.Random, center: float, spread: float = 0.02) -> float:
    return round(center * (1 + rng.uniform(-spread, spread)))


@pytest.fixture
def history(medallion_db):
    """25 ordinary runs, then run 25 with a spike, a drop to zero, a reject burst and a
    quality fall; bronze.users drifts +1 % per run all along."""
    rng = random.Random(16)
    with db.transaction(medallion_db) as conn:
        for i in range(26):
            last = i == 25
            _model_run(conn, i, "silver.users", 3000 if last else _noisy(rng, 1000))
            _model_run(conn, i, "gold.fact_viewing", 0 if last else _noisy(rng, 50_000))
            _model_run(conn, i, "gold.kpi_summary", 1)
            _file(conn, i, "users", 1000 * 1.01 ** i)
            _accounting(conn, i, "viewing_sessions",
                        {"orphan_user": 400 if last else int(_noisy(rng, 20, 0.3)),
                         "invalid_timestamp": 3})
            _score(conn, i, "silver", 82.0 if last else 99.0)
            _score(conn, i, "gold", 100.0)
    return medallion_db


def _flags(found):
    return {(a.subject, a.metric, a.reason, a.direction) for a in found}


def test_spike_drop_rejects_and_score_are_flagged_drift_is_not(history, monkeypatch):
    sent = []
    monkeypatch.setattr(anomalies, "send_alert", lambda alert, settings: sent.append(alert) or
                        AlertResult(email=None, slack=True))

    found = anomalies.detect(_run(25)[0], settings=history)

    assert _flags(found) == {
        ("silver.users", "rows_written", "", "above"),
        ("gold.fact_viewing", "rows_written", "", "below"),
        ("silver.viewing_sessions", "rejected_rows", "orphan_user", "above"),
        ("silver", "quality_score", "", "below"),
    }
    spike = next(a for a in found if a.subject == "silver.users")
    assert spike.observed == 3000 and 950 < spike.baseline_median < 1050
    assert spike.history_runs == 20 and spike.lower_bound < 1000 < spike.upper_bound
    assert all(a.alerted_at is not None and a.is_open for a in found)
    (alert,) = sent  # one message for the run, listing its four anomalies
    assert alert.run_id == _run(25)[0] and "4 anomalies" in alert.title
    assert any("gold.fact_viewing rows written: 0, below" in line for line in alert.extra.values())


def test_a_reevaluation_neither_duplicates_nor_realerts(history, monkeypatch):
    sent = []
    monkeypatch.setattr(anomalies, "send_alert", lambda alert, settings: sent.append(alert) or
                        AlertResult(email=True, slack=None))
    first = anomalies.detect(_run(25)[0], settings=history)
    again = anomalies.detect(_run(25)[0], settings=history)
    latest = anomalies.detect(settings=history)  # the latest run of each series is run 25

    assert len(sent) == 1
    assert {a.anomaly_id for a in first} == {a.anomaly_id for a in again} == {a.anomaly_id for a in latest}
    assert [a.alerted_at for a in first] == [a.alerted_at for a in again]
    assert len(anomalies.list_anomalies(settings=history)) == 4


def test_drift_over_thirty_runs_is_never_flagged(medallion_db, monkeypatch):
    monkeypatch.setattr(anomalies, "send_alert", lambda *a: pytest.fail("nothing to alert"))
    with db.transaction(medallion_db) as conn:
        for i in range(31):
            _file(conn, i, "users", 1000 * 1.01 ** i)
            _model_run(conn, i, "silver.users", 2000 * 0.99 ** i)
    for i in range(31):
        assert anomalies.detect(_run(i)[0], settings=medallion_db) == []
    assert anomalies.open_anomalies(settings=medallion_db) == []


def test_a_rejected_file_is_a_drop_to_zero_in_bronze(medallion_db, monkeypatch):
    monkeypatch.setattr(anomalies, "send_alert", lambda *a: AlertResult(None, None))
    with db.transaction(medallion_db) as conn:
        for i in range(8):
            _file(conn, i, "viewing_sessions", 20_000)
        _file(conn, 8, "viewing_sessions", 0, status="rejected")
    (found,) = anomalies.detect(_run(8)[0], settings=medallion_db)
    assert (found.layer, found.subject, found.observed, found.direction) == (
        "bronze", "bronze.viewing_sessions", 0, "below")


def test_recovery_and_acknowledgement_close_flags(history, monkeypatch):
    monkeypatch.setattr(anomalies, "send_alert", lambda *a: AlertResult(None, None))
    anomalies.detect(_run(25)[0], settings=history)
    assert len(anomalies.open_anomalies(settings=history)) == 4
    with db.transaction(history) as conn:  # run 26: silver.users back to normal
        _model_run(conn, 26, "silver.users", 1000)
    assert anomalies.detect(_run(26)[0], settings=history) == []

    still_open = anomalies.open_anomalies(settings=history)
    assert {a.subject for a in still_open} == {"gold.fact_viewing", "silver.viewing_sessions", "silver"}
    (closed,) = anomalies.list_anomalies(subject="silver.users", settings=history)
    assert (closed.resolution, closed.resolved_by) == ("recovered", _run(26)[0])

    target = next(a for a in still_open if a.metric == "quality_score")
    assert anomalies.acknowledge(target.anomaly_id, by="alice", settings=history) is True
    assert anomalies.acknowledge(target.anomaly_id, by="alice", settings=history) is False
    assert len(anomalies.open_anomalies(settings=history)) == 2
    assert [a.subject for a in anomalies.open_anomalies(layer="gold", settings=history)] == [
        "gold.fact_viewing"]


def test_an_undelivered_alert_is_retried_then_sent_once(history, monkeypatch):
    answers = [AlertResult(email=False, slack=False),
               AlertResult(email=False, slack=True)]
    sent = []
    monkeypatch.setattr(anomalies, "send_alert",
                        lambda alert, settings: sent.append(alert) or answers[len(sent) - 1])
    found = anomalies.detect(_run(25)[0], settings=history)
    assert all(a.alerted_at is None for a in found)
    found = anomalies.detect(_run(25)[0], settings=history)
    assert all(a.alerted_at is not None for a in found)
    anomalies.detect(_run(25)[0], settings=history)
    assert len(sent) == 2


def test_history_serves_a_chart(history):
    points = anomalies.history("silver.viewing_sessions", "rejected_rows", "orphan_user",
                               limit=10, settings=history)
    assert len(points) == 10 and points[-1].value == 400 and points[-1].run_id == _run(25)[0]
    assert [p.run_at for p in points] == sorted(p.run_at for p in points)


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/X", received
    server.shutdown()


def test_the_alert_reaches_a_real_slack_webhook_once(history, webhook):
    url, received = webhook
    settings = history.model_copy(update={"slack_webhook_url": SecretStr(url)})
    anomalies.detect(_run(25)[0], settings=settings)
    anomalies.detect(_run(25)[0], settings=settings)
    (post,) = received
    assert "4 anomalies in run cli:run-025" in post["text"]
    assert "silver.users rows written: 3,000, above" in post["text"]
