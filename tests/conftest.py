"""Shared fixtures: real services, throwaway state.

- Each test session gets its own SecantusDB server (a real MongoDB-protocol
  server) on a free port with storage in a temp folder, and a template database
  on the real PostgreSQL (POSTGRES_* from the environment, default
  127.0.0.1:5432) with every migration applied.
- `medallion_db` gives a test a fresh database cloned from that template (fast)
  and a fresh MongoDB database, and points the settings at both.
- Long tests are marked `slow` and run only with `pytest --slow`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from etl import db as etl_db
from etl.settings import get_settings, reset_settings
from tests.support.envtools import restore_environ

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False,
                     help="also run tests marked slow (end-to-end, Airflow, browser)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow test: run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _isolated_home(tmp_path_factory):
    """Keep tests away from the developer's .medallion/ (pid files, services.env)."""
    home = tmp_path_factory.mktemp("medallion-home")
    old = os.environ.get("MEDALLION_HOME")
    os.environ["MEDALLION_HOME"] = str(home)
    reset_settings()
    yield home
    restore_environ({"MEDALLION_HOME": old})


def _admin_conn():
    s = get_settings()
    return psycopg.connect(**s.libpq_kwargs("postgres"), autocommit=True)


def _drop_database(name: str) -> None:
    with _admin_conn() as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory, _isolated_home):
    """A private SecantusDB server for the whole test session; yields its URI."""
    from stack.services import free_port, start_secantus, stop_pid

    folder = tmp_path_factory.mktemp("secantus")
    pid_file = folder / "secantusd.pid"
    uri = start_secantus(free_port(), folder / "data", folder / "secantusd.log", pid_file)
    old = os.environ.get("MONGO_URI")
    os.environ["MONGO_URI"] = uri
    reset_settings()
    yield uri
    stop_pid(pid_file)
    restore_environ({"MONGO_URI": old})


@pytest.fixture(scope="session")
def template_db(_isolated_home):
    """An initialised template database on the real PostgreSQL for this session."""
    from etl import schema

    try:
        conn = _admin_conn()
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable for integration tests: {exc}")
    conn.close()
    name = f"medallion_tpl_{uuid.uuid4().hex[:10]}"
    with _admin_conn() as c:
        c.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    old = os.environ.get("POSTGRES_DB")
    os.environ["POSTGRES_DB"] = name
    reset_settings()
    try:
        schema.apply_migrations()
    finally:
        restore_environ({"POSTGRES_DB": old})
    yield name
    _drop_database(name)


@pytest.fixture
def medallion_db(template_db, mongo_server, monkeypatch):
    """A fresh, initialised PostgreSQL database and MongoDB database for one test.

    Yields the Settings pointing at them. Dropped afterwards.
    """
    from etl import schema

    name = f"medallion_t_{uuid.uuid4().hex[:12]}"
    with _admin_conn() as c:
        c.execute(sql.SQL("create database {} template {}").format(
            sql.Identifier(name), sql.Identifier(template_db)))
    monkeypatch.setenv("POSTGRES_DB", name)
    monkeypatch.setenv("MONGO_DB", name)
    reset_settings()
    settings = get_settings()
    schema.init_mongo(settings)
    yield settings
    for eng in list(etl_db._engines.values()):
        eng.dispose()
    etl_db._engines.clear()
    client = etl_db.mongo_client(settings)
    client.drop_database(name)
    client.close()
    _drop_database(name)
    reset_settings()


@pytest.fixture
def raw_dir(tmp_path) -> Path:
    """An empty raw landing folder."""
    path = tmp_path / "raw"
    path.mkdir()
    return path


@pytest.fixture
def worked_example_dir(raw_dir) -> Path:
    """The three files (and README.txt) of shared/spec/worked-example.md."""
    src = ROOT / "tests" / "fixtures" / "worked_example"
    for f in src.iterdir():
        shutil.copy(f, raw_dir / f.name)
    return raw_dir
