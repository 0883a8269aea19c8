#!/usr/bin/env bash
# One-shot set-up of the compose stack (service `airflow-init`), safe to re-run:
#  1. Airflow's metadata database `<POSTGRES_DB>_airflow` (created when missing),
#  2. `airflow db migrate`,
#  3. the SimpleAuthManager login from AIRFLOW_USERNAME / AIRFLOW_PASSWORD,
#  4. the project schema (`medallion init`: bronze, silver, gold, ops, MongoDB),
#  5. a generated sample when the raw folder holds no file at all.
set -euo pipefail

: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set (see .env.example)}"
: "${AIRFLOW_PASSWORD:?AIRFLOW_PASSWORD must be set (see .env.example)}"

echo "airflow-init: metadata database"
python - <<'PY'
import os

import psycopg2
from psycopg2 import sql

name = f"{os.environ['POSTGRES_DB']}_airflow"
conn = psycopg2.connect(host=os.environ["POSTGRES_HOST"], port=os.environ.get("POSTGRES_PORT", "5432"),
                        dbname=os.environ["POSTGRES_DB"], user=os.environ["POSTGRES_USER"],
                        password=os.environ["POSTGRES_PASSWORD"])
conn.autocommit = True
with conn.cursor() as cur:
    cur.execute("select 1 from pg_database where datname = %s", (name,))
    if cur.fetchone() is None:
        cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        print(f"created database {name}")
    else:
        print(f"database {name} exists")
conn.close()
PY

echo "airflow-init: migrations"
airflow db migrate

echo "airflow-init: login for ${AIRFLOW_USERNAME:-admin}"
python - <<'PY'
import json
import os
from pathlib import Path

path = Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
path.parent.mkdir(parents=True, exist_ok=True)
path.write_text(json.dumps({os.environ.get("AIRFLOW_USERNAME", "admin"):
                            os.environ["AIRFLOW_PASSWORD"]}) + "\n")
path.chmod(0o600)
PY

echo "airflow-init: project schema"
medallion init

mkdir -p "${RAW_DATA_PATH}" "${PROCESSED_DATA_PATH}"
if [ -z "$(find "${RAW_DATA_PATH}" -type f -print -quit)" ]; then
  echo "airflow-init: ${RAW_DATA_PATH} is empty, generating a sample"
  medallion generate --out "${RAW_DATA_PATH}"
fi
echo "airflow-init: done"
