"""Alerts: rendering, and silence when a channel is not configured (offline)."""

from __future__ import annotations

from etl.alerts import Alert, send_alert, send_email, send_slack
from stack.services import free_port
from etl.settings import Settings


def _settings(**kwargs) -> Settings:
    base = {"smtp_host": None, "alert_email_to": None, "slack_webhook_url": None}
    return Settings(**{**base, **kwargs})


ALERT = Alert(title="Task failed", dag_id="dag_2_data_ingesters", task_id="register_files",
              run_id="manual__1", try_number=4, error="RetryableError: boom")


def test_subject_and_text_name_dag_task_and_error():
    assert ALERT.subject == "[medallion] Task failed: dag_2_data_ingesters.register_files"
    text = ALERT.text()
    for expected in ("DAG: dag_2_data_ingesters", "Task: register_files", "Try: 4",
                     "Error: RetryableError: boom", "Run: manual__1"):
        assert expected in text
    assert "Log:" not in text  # empty fields are left out


def test_silent_when_nothing_is_configured():
    result = send_alert(ALERT, _settings())
    assert result.email is None and result.slack is None


def test_email_needs_both_host_and_recipient():
    assert send_email(ALERT, _settings(smtp_host="127.0.0.1")) is None
    assert send_email(ALERT, _settings(alert_email_to="ops@example.com")) is None


def test_unreachable_channels_report_false_without_raising():
    port = free_port()  # nothing listens there
    settings = _settings(smtp_host="127.0.0.1", smtp_port=port, alert_email_to="ops@example.com",
                         slack_webhook_url=f"http://127.0.0.1:{port}/hook")
    assert send_email(ALERT, settings) is False
    assert send_slack(ALERT, settings) is False
