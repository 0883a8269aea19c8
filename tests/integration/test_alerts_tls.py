"""Alert email and TLS: the certificate is verified, and credentials never go in the clear.

A real SMTP server (aiosmtpd) is run in three ways: without TLS but willing to take a
login in the clear (a careless relay, or someone in the middle stripping STARTTLS), with
STARTTLS under a self-signed certificate (someone in the middle with their own
certificate), and with STARTTLS under a certificate the client trusts.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl

import pytest

from etl.alerts import Alert, send_email
from etl.settings import Settings
from stack.services import free_port

ALERT = Alert(title="Task failed", dag_id="dag_2_data_ingesters", task_id="register_files")


class _Mailbox:
    def __init__(self):
        self.messages = []
        self.logins = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=True)


def _certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1: (cert file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def smtp(tmp_path):
    """smtp(tls=False) -> (port, mailbox) of a running aiosmtpd that accepts any login."""
    from aiosmtpd.controller import Controller

    controllers = []

    def start(tls: bool = False):
        box = _Mailbox()
        kwargs = {"auth_require_tls": False, "authenticator": box.authenticate}
        if tls:
            cert_file, key_file = _certificate(tmp_path)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert_file, key_file)
            kwargs["tls_context"] = context
        controller = Controller(box, hostname="127.0.0.1", port=free_port(), **kwargs)
        controller.start()
        controllers.append(controller)
        return controller.port, box

    yield start
    for controller in controllers:
        controller.stop()


def _settings(port, **kwargs) -> Settings:
    return Settings(smtp_host="127.0.0.1", smtp_port=port, alert_email_to="ops@example.com",
                    slack_webhook_url=None, **kwargs)


def test_no_login_without_tls(smtp, caplog):
    port, box = smtp(tls=False)
    assert send_email(ALERT, _settings(port, smtp_user="alerts", smtp_password="pw-1")) is False
    assert box.logins == [] and box.messages == []
    assert "offers no STARTTLS" in caplog.text and "pw-1" not in caplog.text


def test_starttls_required_when_asked(smtp):
    port, box = smtp(tls=False)
    assert send_email(ALERT, _settings(port, smtp_tls="starttls")) is False
    assert box.messages == []


def test_plain_relay_without_credentials_still_works(smtp):
    port, box = smtp(tls=False)
    assert send_email(ALERT, _settings(port)) is True
    assert len(box.messages) == 1 and box.logins == []


def test_unverified_certificate_gets_nothing(smtp, caplog):
    port, box = smtp(tls=True)
    assert send_email(ALERT, _settings(port, smtp_user="alerts", smtp_password="pw-2")) is False
    assert box.logins == [] and box.messages == []
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text or "certificate verify failed" in caplog.text


def test_trusted_certificate_carries_login_and_mail(smtp, tmp_path, monkeypatch):
    port, box = smtp(tls=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))  # trust our own CA
    assert send_email(ALERT, _settings(port, smtp_user="alerts", smtp_password="pw-3")) is True
    assert box.logins == [(b"alerts", b"pw-3")] and len(box.messages) == 1
