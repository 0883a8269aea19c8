#!/usr/bin/env bash
# First start of the compose `postgres` container (empty volume), as its superuser:
# two login roles with the least privilege each needs, neither a superuser nor able
# to create databases or roles.
#  - MEDALLION_DB_USER owns the data database MEDALLION_DB (bronze, silver, gold, ops);
#  - AIRFLOW_DB_USER owns Airflow's metadata database <MEDALLION_DB>_airflow.
# Nobody else may connect to either (CONNECT revoked from PUBLIC), so the pipeline's
# role cannot read Airflow's connections and variables, nor Airflow's role the data.
# tests/integration/test_compose_roles.py runs this file against a real PostgreSQL.
set -euo pipefail

: "${MEDALLION_DB:?}" "${MEDALLION_DB_USER:?}" "${MEDALLION_DB_PASSWORD:?}"
: "${AIRFLOW_DB_USER:?}" "${AIRFLOW_DB_PASSWORD:?}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres \
  -v data_db="$MEDALLION_DB" -v data_user="$MEDALLION_DB_USER" \
  -v data_pw="$MEDALLION_DB_PASSWORD" \
  -v airflow_db="${MEDALLION_DB}_airflow" -v airflow_user="$AIRFLOW_DB_USER" \
  -v airflow_pw="$AIRFLOW_DB_PASSWORD" <<'SQL'
select format('create role %I login password %L nosuperuser nocreatedb nocreaterole noreplication',
              role_name, pw)
from (values (:'data_user', :'data_pw'), (:'airflow_user', :'airflow_pw')) as r (role_name, pw)
\gexec
create database :"data_db" owner :"data_user";
create database :"airflow_db" owner :"airflow_user";
revoke all on database :"data_db" from public;
revoke all on database :"airflow_db" from public;
SQL
echo "postgres-init: roles $MEDALLION_DB_USER ($MEDALLION_DB) and $AIRFLOW_DB_USER (${MEDALLION_DB}_airflow)"
