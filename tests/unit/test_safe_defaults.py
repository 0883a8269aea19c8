"""Safe defaults (issue 12): loopback unless a setting says otherwise, and no public address
while the sign-in password is a default (offline: no process is started)."""

from __future__ import annotations

import argparse
import secrets
import tomllib

import pytest
from pydantic import SecretStr

from etl.errors import ConfigError
from etl.settings import PROJECT_ROOT, Settings, is_loopback
from stack import console_local, product


@pytest.fixture
def home(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDALLION_HOME", str(tmp_path / "home"))


STRONG = secrets.token_urlsafe(16)  # a throwaway, generated: never a real login


def _settings(**kwargs) -> Settings:
    return Settings(**{"airflow_password": "admin", **kwargs})


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("0.0.0.0", False), ("::", False), ("", False), (None, False),
    ("192.168.1.20", False), ("console.example.com", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_defaults_are_loopback(monkeypatch):
    for name in ("CONSOLE_ADDRESS", "AIRFLOW_API_HOST"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.console_address == "127.0.0.1"
    assert settings.airflow_api_host == "127.0.0.1"
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"


@pytest.mark.parametrize("password, default", [("admin", True), ("change-me", True), ("", True),
                                               (STRONG, False)])
def test_default_passwords(password, default):
    assert _settings(airflow_password=password).uses_default_password is default


def test_console_is_started_on_the_configured_address(home, monkeypatch):
    started = {}

    def fake_spawn(argv, *args, **kwargs):
        started["argv"] = argv
        raise RuntimeError("not really")

    monkeypatch.setattr(console_local, "spawn", fake_spawn)
    monkeypatch.setattr(console_local, "port_open", lambda *a: False)
    with pytest.raises(RuntimeError, match="not really"):
        console_local.start(_settings(), port=18599)
    argv = started["argv"]
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"


@pytest.mark.parametrize("address", ["0.0.0.0", "10.1.2.3", "console.example.com"])
def test_console_refuses_a_public_address_with_the_default_password(home, monkeypatch, address):
    monkeypatch.setattr(console_local, "spawn", lambda *a, **k: pytest.fail("must not start"))
    with pytest.raises(ConfigError, match="AIRFLOW_PASSWORD.*CONSOLE_ADDRESS"):
        console_local.start(_settings(console_address=address), port=18599)


def test_console_may_listen_publicly_with_a_real_password(home, monkeypatch):
    started = {}

    def fake_spawn(argv, *args, **kwargs):
        started["argv"] = argv
        raise RuntimeError("not really")

    monkeypatch.setattr(console_local, "spawn", fake_spawn)
    monkeypatch.setattr(console_local, "port_open", lambda *a: False)
    with pytest.raises(RuntimeError):
        console_local.start(_settings(console_address="0.0.0.0",
                                      airflow_password=SecretStr(STRONG)), port=18599)
    assert "0.0.0.0" in started["argv"]


def test_medallion_up_warns_about_the_default_password(monkeypatch, capsys):
    monkeypatch.setenv("AIRFLOW_PASSWORD", "admin")
    from etl.settings import reset_settings

    reset_settings()

    def stop_here():
        raise RuntimeError("stop after the warning")

    monkeypatch.setattr(product.services, "up", stop_here)
    try:
        with pytest.raises(RuntimeError):
            product.up(argparse.Namespace(no_sample=True))
    finally:
        reset_settings()
    assert "AIRFLOW_PASSWORD" in capsys.readouterr().out
    assert product.default_password_warning(_settings(airflow_password=STRONG)) is None
