"""Failure alerts: email through SMTP and a Slack incoming webhook.

Each channel is silent when it is not configured (`SMTP_HOST` + `ALERT_EMAIL_TO`
for email, `SLACK_WEBHOOK_URL` for Slack). A channel that is configured but
fails is logged as a warning and reported in the result, never raised: an alert
must not hide the failure it reports. Plain Python, no Airflow import.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage

from etl.settings import Settings, get_settings

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Alert:
    """What went wrong, where; rendered the same way for every channel."""

    title: str
    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    try_number: int | None = None
    error: str | None = None
    log_url: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def subject(self) -> str:
        where = ".".join(p for p in (self.dag_id, self.task_id) if p)
        return f"[medallion] {self.title}" + (f": {where}" if where else "")

    def text(self) -> str:
        lines = [self.title]
        for label, value in (("DAG", self.dag_id), ("Task", self.task_id), ("Run", self.run_id),
                             ("Try", self.try_number), ("Error", self.error),
                             ("Log", self.log_url), *self.extra.items()):
            if value not in (None, ""):
                lines.append(f"{label}: {value}")
        return "\n".join(lines)


@dataclass(frozen=True)
class AlertResult:
    """Per channel: True sent, False failed, None not configured."""

    email: bool | None
    slack: bool | None


def send_email(alert: Alert, settings: Settings | None = None) -> bool | None:
    """Mail the alert to ALERT_EMAIL_TO (comma-separated) through SMTP_HOST:SMTP_PORT."""
    settings = settings or get_settings()
    recipients = [a.strip() for a in (settings.alert_email_to or "").split(",") if a.strip()]
    if not settings.smtp_host or not recipients:
        return None
    msg = EmailMessage()
    msg["Subject"] = alert.subject
    msg["From"] = settings.smtp_from
    msg["To"] = ", ".join(recipients)
    msg.set_content(alert.text())
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls()
                smtp.ehlo()
            if settings.smtp_user:
                password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                smtp.login(settings.smtp_user, password)
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("alert email to %s via %s:%s failed: %s", ", ".join(recipients),
                    settings.smtp_host, settings.smtp_port, exc)
        return False
    log.info("alert email sent to %s", ", ".join(recipients))
    return True


def send_slack(alert: Alert, settings: Settings | None = None) -> bool | None:
    """POST the alert to the Slack incoming webhook SLACK_WEBHOOK_URL."""
    settings = settings or get_settings()
    url = settings.slack_webhook_url.get_secret_value() if settings.slack_webhook_url else ""
    if not url:
        return None
    body = json.dumps({"text": f"*{alert.subject}*\n```{alert.text()}```"}).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            ok = 200 <= response.status < 300
    except (OSError, urllib.error.URLError) as exc:
        # the URL holds the webhook's secret: never log it
        log.warning("Slack alert failed: %s", exc)
        return False
    if not ok:
        log.warning("Slack alert answered HTTP %s", response.status)
    return ok


def send_alert(alert: Alert, settings: Settings | None = None) -> AlertResult:
    """Send the alert on every configured channel; returns what each channel did."""
    settings = settings or get_settings()
    return AlertResult(email=send_email(alert, settings), slack=send_slack(alert, settings))
