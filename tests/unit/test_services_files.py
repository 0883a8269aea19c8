"""Files the local services write: secrets 0600 from their creation, the initdb password file
removed whatever happens, folders opened only as far as the cluster's user needs (offline)."""

from __future__ import annotations

import os
import pwd
import secrets
import stat
import subprocess

import pytest

from stack import services


@pytest.fixture
def home(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDALLION_HOME", str(tmp_path / "home"))
    yield tmp_path / "home"
    services._applied.clear()


@pytest.fixture
def usual_umask():
    old = os.umask(0o022)  # a plain write would give 0644
    yield
    os.umask(old)


def test_write_private_creates_0600_and_replaces_whole(tmp_path, usual_umask):
    path = tmp_path / "secret"
    path.write_text("old, world-readable\n")
    services.write_private(path, "new\n")
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]


def test_services_env_is_0600_from_its_creation(home, usual_umask, monkeypatch):
    created = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *args, **kwargs):
        fd = real_open(path, flags, mode, *args, **kwargs)
        if flags & os.O_CREAT:
            created.append((os.path.basename(path), stat.S_IMODE(os.fstat(fd).st_mode)))
        return fd

    monkeypatch.setattr(os, "open", spy)
    monkeypatch.delenv("POSTGRES_PASSWORD", raising=False)
    generated = secrets.token_urlsafe(12)
    services._write_services_env({"POSTGRES_PASSWORD": generated})
    path = home / "services.env"
    assert f"POSTGRES_PASSWORD={generated}" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert created and all(mode == 0o600 for _, mode in created), created
    monkeypatch.delenv("POSTGRES_PASSWORD", raising=False)


@pytest.mark.parametrize("fails", [False, True])
def test_initdb_password_file_is_0600_and_always_removed(home, usual_umask, monkeypatch, fails):
    seen = {}

    def fake_run(argv, **kwargs):
        pwfile = next(a.split("=", 1)[1] for a in argv if a.startswith("--pwfile="))
        seen["mode"] = stat.S_IMODE(os.stat(pwfile).st_mode)
        seen["text"] = open(pwfile).read()
        if fails:
            raise subprocess.CalledProcessError(1, argv)
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr(services.subprocess, "run", fake_run)
    monkeypatch.setattr(services, "_pg_bin", lambda name: name)
    data = home / "postgres" / "data"
    if fails:
        with pytest.raises(subprocess.CalledProcessError):
            services._init_cluster(data, "pw-xyz", None)
    else:
        services._init_cluster(data, "pw-xyz", None)
    assert seen == {"mode": 0o600, "text": "pw-xyz\n"}
    assert not (home / "postgres" / "pwfile").exists()
    assert stat.S_IMODE((home / "postgres").stat().st_mode) == 0o700


@pytest.mark.skipif(os.geteuid() != 0, reason="changing who may enter needs root")
def test_grant_traverse_adds_only_search_for_others_where_missing():
    import shutil
    import tempfile
    from pathlib import Path

    user = pwd.getpwnam("nobody")
    base = Path(tempfile.mkdtemp(dir="/tmp"))  # its parents (/tmp, /) let anyone through
    base.chmod(0o755)
    closed = base / "closed"
    opened = closed / "open"
    opened.mkdir(parents=True)
    closed.chmod(0o700)
    opened.chmod(0o755)
    try:
        _check_grant(user, closed, opened)
    finally:
        shutil.rmtree(base)


def _check_grant(user, closed, opened):
    changed = services.grant_traverse(opened, user)
    assert changed == [closed]
    assert stat.S_IMODE(closed.stat().st_mode) == 0o701  # enter, not list, not write
    assert stat.S_IMODE(opened.stat().st_mode) == 0o755
    assert services.grant_traverse(opened, user) == []  # nothing more the second time
