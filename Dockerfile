# The product's image: official Airflow 3.3.2 (Python 3.11) plus this project,
# installed editable under /opt/medallion so that `sql/`, `checks/` and `dags/`
# stay next to the `etl` package that reads them. docker-compose.yml runs every
# Airflow component, the console and the one-shot init from this one image.
#
#   docker build -t medallion-airflow:3.3.2 .
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_IMAGE}

USER root
# Writable by the airflow user and by any UID in group 0 (compose runs as
# AIRFLOW_UID:0), so named volumes mounted on these paths start writable.
RUN mkdir -p /opt/medallion/data/raw /opt/airflow/auth \
 && chown -R airflow:0 /opt/medallion /opt/airflow/auth \
 && chmod -R g+rwX /opt/medallion /opt/airflow/auth

USER airflow
WORKDIR /opt/medallion
COPY --chown=airflow:0 pyproject.toml constraints.txt README.md* ./
COPY --chown=airflow:0 etl ./etl
COPY --chown=airflow:0 stack ./stack
COPY --chown=airflow:0 console ./console
COPY --chown=airflow:0 dags ./dags
COPY --chown=airflow:0 sql ./sql
COPY --chown=airflow:0 checks ./checks
COPY --chown=airflow:0 .streamlit ./.streamlit
COPY --chown=airflow:0 docker ./docker

# The project's pinned set (constraints.txt, which pins Airflow to the image's own version),
# without the embedded MongoDB-protocol server: compose runs a real MongoDB.
RUN pip install --no-cache-dir -c constraints.txt "apache-airflow==${AIRFLOW_VERSION}" -e . \
 && chmod -R g+rwX /opt/medallion

ENV PYTHONPATH=/opt/medallion \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/medallion/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    RAW_DATA_PATH=/opt/medallion/data/raw
