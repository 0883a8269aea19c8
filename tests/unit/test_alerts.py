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


def test_port_465_is_smtps_with_a_verifying_context(monkeypatch):
    import smtplib
    import ssl

    used = {}

    class FakeSmtps:
        def __init__(self, host, port, timeout, context):
            used.update(host=host, port=port, context=context)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def ehlo(self):
            pass

        def login(self, user, password):
            used["login"] = user

        def send_message(self, msg):
            used["sent"] = msg["Subject"]

    monkeypatch.setattr(smtplib, "SMTP_SSL", FakeSmtps)
    monkeypatch.setattr(smtplib, "SMTP", None)  # a plain connection must not be tried
    settings = _settings(smtp_host="mail.example.com", smtp_port=465, smtp_user="alerts",
                         smtp_password="pw", alert_email_to="ops@example.com")
    assert send_email(ALERT, settings) is True
    context = used["context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert used["login"] == "alerts" and used["sent"] == ALERT.subject
