#!/usr/bin/env bash
# One-shot set-up of the compose stack (service `airflow-init`), safe to re-run:
#  1. `airflow db migrate` (the metadata database `<POSTGRES_DB>_airflow` and its
#     role come from docker/postgres-init/10-roles.sh on PostgreSQL's first start),
#  2. the SimpleAuthManager login from AIRFLOW_USERNAME / AIRFLOW_PASSWORD,
#  3. the project schema (`medallion init`: bronze, silver, gold, ops, MongoDB),
#  4. a generated sample when the raw folder holds no file at all.
# The secrets were checked by the `preflight` service (docker/preflight.sh).
set -euo pipefail

: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set (see .env.example)}"
: "${AIRFLOW_PASSWORD:?AIRFLOW_PASSWORD must be set (see .env.example)}"

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

mkdir -p "${RAW_DATA_PATH}"
if [ -z "$(find "${RAW_DATA_PATH}" -type f -print -quit)" ]; then
  echo "airflow-init: ${RAW_DATA_PATH} is empty, generating a sample"
  medallion generate --out "${RAW_DATA_PATH}"
fi
echo "airflow-init: done"
