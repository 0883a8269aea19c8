"""The README's `soda scan` command, run for real against the test database.

Only the environment is given (POSTGRES_*), no `-v` variables; HOME points at a folder
whose ~/.soda/config.yml is checks/soda_config.yml, so the CLI sends no usage statistics.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from etl import db
from tests.support import dq_dataset as dataset

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SODA = Path(sys.executable).parent / "soda"


@pytest.fixture
def soda_env(medallion_db, tmp_path):
    with db.connect(medallion_db) as conn:
        dataset.load(conn)
    home = tmp_path / "home"
    (home / ".soda").mkdir(parents=True)
    shutil.copy(ROOT / "checks" / "soda_config.yml", home / ".soda" / "config.yml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTGRES_")}
    env.update(
        HOME=str(home),
        POSTGRES_HOST=medallion_db.postgres_host,
        POSTGRES_PORT=str(medallion_db.postgres_port),
        POSTGRES_DB=medallion_db.postgres_db,
        POSTGRES_USER=medallion_db.postgres_user,
        POSTGRES_PASSWORD=medallion_db.postgres_password_value,
    )
    return env, home


def _soda_scan(layer: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SODA), "scan", "-d", "video_analytics", "-c", "checks/configuration.yml",
         f"checks/{layer}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


def test_readme_soda_scan_command_works_from_the_environment(soda_env):
    env, home = soda_env
    config_before = (home / ".soda" / "config.yml").read_text()

    silver = _soda_scan("silver", env)
    assert silver.returncode == 0, silver.stdout + silver.stderr
    assert "All is good. No failures. No warnings. No errors." in silver.stdout

    # Bronze warns about the rejected file of the latest run: Soda's exit code 1.
    bronze = _soda_scan("bronze", env)
    assert bronze.returncode == 1, bronze.stdout + bronze.stderr
    assert "Every users file of the latest ingestion run was readable [WARNED]" in bronze.stdout
    assert "error" not in bronze.stdout.lower().replace("0 errors", "")

    assert (home / ".soda" / "config.yml").read_text() == config_before  # Soda wrote nothing


def test_soda_scan_fails_on_a_defect(soda_env, medallion_db):
    env, _ = soda_env
    with db.connect(medallion_db) as conn, conn.transaction():
        conn.execute("update gold.content_performance set unique_viewers = views + 1 "
                     "where content_id = '10'")

    gold = _soda_scan("gold", env)

    assert gold.returncode == 2, gold.stdout + gold.stderr
    assert "No content has more unique viewers than views [FAILED]" in gold.stdout
