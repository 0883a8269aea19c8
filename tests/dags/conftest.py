"""Parse DAGs against a throwaway AIRFLOW_HOME, never the developer's ~/airflow."""

import atexit
import os
import shutil
import tempfile

if "AIRFLOW_HOME" not in os.environ:
    # Set at import: Airflow reads it when first imported, before any fixture runs.
    _home = tempfile.mkdtemp(prefix="medallion-airflow-home-")
    os.environ["AIRFLOW_HOME"] = _home
    atexit.register(shutil.rmtree, _home, ignore_errors=True)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")


def pytest_terminal_summary(terminalreporter):
    """Show what the DAG tests report rather than assert (e.g. DagBag parse time)."""
    for line in getattr(terminalreporter.config, "medallion_report", []):
        terminalreporter.write_line(line)
