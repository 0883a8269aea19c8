"""Parse DAGs against a throwaway AIRFLOW_HOME, never the developer's ~/airflow."""

import os
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="medallion-airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")


def pytest_terminal_summary(terminalreporter):
    """Show what the DAG tests report rather than assert (e.g. DagBag parse time)."""
    for line in getattr(terminalreporter.config, "medallion_report", []):
        terminalreporter.write_line(line)
