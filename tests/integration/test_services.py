"""`medallion services up|down|status` with private services (nothing configured answers)."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from etl import db
from stack import services
from etl.settings import get_settings, reset_settings
from tests.support.envtools import restore_environ

SERVICE_VARS = ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB",
                "MONGO_URI", "MONGO_HOST", "MONGO_PORT", "MEDALLION_HOME")


@pytest.fixture
def private_home(monkeypatch):
    """A state folder of its own and configured addresses where nothing listens.

    Not under pytest's tmp_path: a pytest session started meanwhile resets
    /tmp/pytest-of-<user> to mode 700, which the cluster's unprivileged owner
    then cannot reach.
    """
    tmp_path = Path(tempfile.mkdtemp(prefix="medallion-services-"))
    tmp_path.chmod(0o755)
    saved = {k: os.environ.get(k) for k in SERVICE_VARS}
    for key in SERVICE_VARS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MEDALLION_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("POSTGRES_HOST", "127.0.0.1")
    monkeypatch.setenv("POSTGRES_PORT", "1")  # nothing listens on port 1
    monkeypatch.setenv("POSTGRES_DB", "medallion_private_test")
    monkeypatch.setenv("MONGO_URI", "mongodb://127.0.0.1:1/?directConnection=true")
    reset_settings()
    yield tmp_path / "home"
    services.down()
    shutil.rmtree(tmp_path, ignore_errors=True)
    restore_environ(saved)


def test_private_services_start_are_used_and_stop(private_home):
    pg, mongo = services.up()
    assert pg.managed and mongo.managed
    settings = get_settings()  # now points at the private services
    assert settings.postgres_port != 1
    assert settings.postgres_password_value, "a private cluster uses password auth"
    with db.connect(settings) as conn:
        assert conn.execute("select current_database()").fetchone()[0] == "medallion_private_test"
    # password auth, not trust: a wrong password is refused
    bad = settings.model_copy(update={"postgres_password": type(settings.postgres_password)("wrong")})
    with pytest.raises(Exception):
        db.connect(bad)
    assert db.mongo_client(settings).admin.command("ping")["ok"] == 1.0
    env_file = (private_home / "services.env").read_text()
    assert "POSTGRES_PASSWORD=" in env_file and oct((private_home / "services.env").stat().st_mode)[-3:] == "600"

    # A second `up` reuses what runs instead of starting more.
    pg2, mongo2 = services.up()
    assert (pg2.address, mongo2.address) == (pg.address, mongo.address)

    stopped = services.down()
    assert set(stopped) == {"mongo (SecantusDB)", "postgres (private cluster)"}
    assert not services.port_open("127.0.0.1", settings.postgres_port)
    assert services.down() == []  # nothing left to stop
