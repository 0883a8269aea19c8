#!/usr/bin/env bash
# The compose stack's first service (`preflight`): refuse to start what must not.
#  - a required secret that is empty or still a placeholder of .env.example (change-me);
#  - the data role and Airflow's role being one role, or the superuser;
#  - AIRFLOW_EXECUTOR=CeleryExecutor without the `celery` profile (no Redis, no workers:
#    tasks would queue forever).
# Every problem is printed, one line each; the exit status is 1 when there is any.
set -uo pipefail

problems=0
problem() { echo "preflight: $*" >&2; problems=$((problems + 1)); }

for var in POSTGRES_ADMIN_PASSWORD MEDALLION_DB_PASSWORD AIRFLOW_DB_PASSWORD \
           MONGO_ROOT_PASSWORD MONGO_APP_PASSWORD AIRFLOW_PASSWORD AIRFLOW_JWT_SECRET \
           AIRFLOW_API_SECRET_KEY AIRFLOW_FERNET_KEY; do
  value="${!var:-}"
  lower="${value,,}"
  if [[ -z "$value" ]]; then
    problem "$var is empty: set it in .env (see .env.example)"
  elif [[ "$lower" == *change*me* || "$lower" =~ ^(changeme|placeholder|secret|password|admin|xxx+)$ ]]; then
    problem "$var is still the placeholder '$value' from .env.example: set a real value in .env"
  fi
done

data_user="${MEDALLION_DB_USER:-medallion}"
airflow_user="${AIRFLOW_DB_USER:-airflow}"
if [[ "$data_user" == "$airflow_user" ]]; then
  problem "MEDALLION_DB_USER and AIRFLOW_DB_USER are both '$data_user': the data and Airflow's metadata need separate roles"
fi
for user in "$data_user" "$airflow_user"; do
  [[ "$user" == postgres ]] && problem "role 'postgres' is the superuser: choose another MEDALLION_DB_USER / AIRFLOW_DB_USER"
done

executor="${AIRFLOW_EXECUTOR:-LocalExecutor}"
case "$executor" in
  LocalExecutor) ;;
  CeleryExecutor)
    if [[ ",${COMPOSE_PROFILES:-}," != *,celery,* ]]; then
      # `--profile celery` on the command line does not reach us: look for its broker.
      found=""
      for _ in $(seq 1 "${PREFLIGHT_REDIS_WAIT_SECONDS:-30}"); do
        if getent hosts redis >/dev/null 2>&1; then found=1; break; fi
        sleep 1
      done
      [[ -n "$found" ]] || problem "AIRFLOW_EXECUTOR=CeleryExecutor needs the 'celery' profile (Redis and the workers): docker compose --profile celery up -d, or COMPOSE_PROFILES=celery in .env"
    fi
    ;;
  *) problem "AIRFLOW_EXECUTOR=$executor is not supported here: LocalExecutor, or CeleryExecutor with the 'celery' profile" ;;
esac

if (( problems > 0 )); then
  echo "preflight: $problems problem(s); nothing was started" >&2
  exit 1
fi
echo "preflight: ok ($executor)"
