"""Failure alerts: email through SMTP and a Slack incoming webhook.

Each channel is silent when it is not configured (`SMTP_HOST` + `ALERT_EMAIL_TO`
for email, `SLACK_WEBHOOK_URL` for Slack). A channel that is configured but
fails is logged as a warning and reported in the result, never raised: an alert
must not hide the failure it reports. Plain Python, no Airflow import.

Email is sent over TLS whenever the server offers it, with the certificate and
host name verified (`ssl.create_default_context`): SMTPS when SMTP_TLS is `ssl`
(or the port is 465), STARTTLS otherwise. Credentials (SMTP_USER) never travel
without TLS: a server that offers no STARTTLS gets no login and no mail.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage

from etl.settings import Settings, get_settings

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
SMTPS_PORT = 465


class InsecureSmtp(smtplib.SMTPException):
    """The SMTP server offers no TLS, so the credentials are not sent."""


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
        _deliver(msg, settings)
    except (OSError, smtplib.SMTPException) as exc:
        # ssl.SSLCertVerificationError is an OSError: an unverified server gets nothing
        log.warning("alert email to %s via %s:%s failed: %s", ", ".join(recipients),
                    settings.smtp_host, settings.smtp_port, exc)
        return False
    log.info("alert email sent to %s", ", ".join(recipients))
    return True


def _deliver(msg: EmailMessage, settings: Settings) -> None:
    """Hand the message to the SMTP server: TLS verified when used, never a login in the clear."""
    context = ssl.create_default_context()
    implicit = settings.smtp_tls == "ssl" or (settings.smtp_tls == "auto"
                                              and settings.smtp_port == SMTPS_PORT)
    if implicit:
        smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS,
                                context=context)
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS)
    with smtp:
        smtp.ehlo()
        if not implicit:
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif settings.smtp_user or settings.smtp_tls == "starttls":
                raise InsecureSmtp(
                    f"{settings.smtp_host}:{settings.smtp_port} offers no STARTTLS, so the "
                    "credentials (SMTP_USER) are not sent in the clear: use a server or port "
                    "with TLS (SMTP_TLS=ssl for port 465), or a local relay without SMTP_USER")
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_user, password)
        smtp.send_message(msg)


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
