"""Alerts reach a real SMTP server (aiosmtpd) and a real HTTP webhook receiver."""

from __future__ import annotations

import json
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from etl.alerts import Alert, send_alert
from stack.services import free_port
from etl.settings import Settings


class _Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    box = _Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, box
    controller.stop()


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "body": json.loads(body)})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/XXX", received
    server.shutdown()


def test_alert_reaches_smtp_and_slack(smtp_server, webhook):
    port, box = smtp_server
    url, received = webhook
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_user=None,
                        alert_email_to="ops@example.com, oncall@example.com",
                        smtp_from="medallion@localhost", slack_webhook_url=url)
    alert = Alert(title="Task failed", dag_id="dag_4_data_transformer_silver", task_id="build_gold",
                  run_id="manual__x", try_number=4, error="RetryableError: connection reset")

    result = send_alert(alert, settings)

    assert result.email is True and result.slack is True
    (rcpt, message), = box.messages
    assert sorted(rcpt) == ["oncall@example.com", "ops@example.com"]
    assert message["Subject"] == "[medallion] Task failed: dag_4_data_transformer_silver.build_gold"
    assert "connection reset" in message.get_payload()
    (post,) = received
    assert post["path"] == "/services/T000/B000/XXX"
    assert "build_gold" in post["body"]["text"] and "connection reset" in post["body"]["text"]


def test_webhook_answering_an_error_is_reported_not_raised():
    class Broken(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = Settings(smtp_host=None, alert_email_to=None,
                            slack_webhook_url=f"http://127.0.0.1:{server.server_address[1]}/hook")
        assert send_alert(Alert(title="x"), settings).slack is False
    finally:
        server.shutdown()
