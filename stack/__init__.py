"""The local stack: supervision of local processes, apart from the pipeline (`etl`).

- `services`: PostgreSQL and MongoDB, the configured servers or private ones
- `airflow_local`: Airflow 3's components as local processes
- `console_local`: the Streamlit console as a local process
- `product`: `medallion up | down | status`, the whole product with one command

`etl` never imports this package; the `medallion` CLI hands these commands over to it.
"""
