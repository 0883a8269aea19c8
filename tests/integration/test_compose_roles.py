"""docker/postgres-init/10-roles.sh run against the real PostgreSQL, as the container would.

Two login roles come out of it, neither superuser nor able to create databases or
roles; each owns one database and cannot connect to the other's, and nobody else
can connect to either. Names are unique per run; everything is dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from etl.settings import get_settings

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[2] / "docker" / "postgres-init" / "10-roles.sh"


def _admin():
    return psycopg.connect(**get_settings().libpq_kwargs("postgres"), autocommit=True)


@pytest.fixture
def roles():
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed")
    tag = uuid.uuid4().hex[:8]
    names = {"data_db": f"compose_data_{tag}", "data_user": f"compose_app_{tag}",
             "airflow_user": f"compose_af_{tag}"}
    names["airflow_db"] = f"{names['data_db']}_airflow"
    yield names
    with _admin() as conn:
        for db in (names["data_db"], names["airflow_db"]):
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(db)))
        for role in (names["data_user"], names["airflow_user"]):
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))


def _can_connect(role: str, database: str) -> bool:
    settings = get_settings()
    kwargs = {**settings.libpq_kwargs(database), "user": role}
    kwargs.pop("password", None)
    try:
        psycopg.connect(**kwargs).close()
        return True
    except psycopg.OperationalError as exc:
        assert "permission denied" in str(exc) or "password" in str(exc), exc
        return False


def test_roles_script_gives_each_role_its_own_database_only(roles):
    settings = get_settings()
    env = {"PATH": os.environ["PATH"], "PGHOST": settings.postgres_host,
           "PGPORT": str(settings.postgres_port), "POSTGRES_USER": settings.postgres_user,
           "PGPASSWORD": settings.postgres_password_value,
           "MEDALLION_DB": roles["data_db"], "MEDALLION_DB_USER": roles["data_user"],
           "MEDALLION_DB_PASSWORD": uuid.uuid4().hex, "AIRFLOW_DB_USER": roles["airflow_user"],
           "AIRFLOW_DB_PASSWORD": uuid.uuid4().hex}
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr

    with _admin() as conn:
        flags = dict(conn.execute(
            "select rolname, (rolsuper or rolcreatedb or rolcreaterole or rolreplication) "
            "from pg_roles where rolname = any(%s)",
            ([roles["data_user"], roles["airflow_user"]],)).fetchall())
        owners = dict(conn.execute(
            "select datname, pg_get_userbyid(datdba) from pg_database where datname = any(%s)",
            ([roles["data_db"], roles["airflow_db"]],)).fetchall())
    assert flags == {roles["data_user"]: False, roles["airflow_user"]: False}
    assert owners == {roles["data_db"]: roles["data_user"], roles["airflow_db"]: roles["airflow_user"]}

    # Password checks depend on the server's auth; CONNECT privileges do not.
    if settings.postgres_user != "postgres" or settings.postgres_password_value:
        pytest.skip("connecting as the new roles needs trust auth on the test server")
    assert _can_connect(roles["data_user"], roles["data_db"])
    assert _can_connect(roles["airflow_user"], roles["airflow_db"])
    assert not _can_connect(roles["data_user"], roles["airflow_db"])
    assert not _can_connect(roles["airflow_user"], roles["data_db"])
    # The pipeline's schema can be created by its role (no superuser needed).
    kwargs = {**settings.libpq_kwargs(roles["data_db"]), "user": roles["data_user"]}
    with psycopg.connect(**kwargs) as conn:
        conn.execute("create schema bronze")
        conn.execute("create table bronze.t (id int)")
