"""`etl` is the pipeline alone: importing every one of its modules loads neither Airflow,
Streamlit, the console nor the local stack's supervisor (issue: consolidation)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

_PROBE = """
import importlib, json, pkgutil, sys
import etl
names = [m.name for m in pkgutil.walk_packages(etl.__path__, "etl.")]
for name in names:
    importlib.import_module(name)
roots = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps({"modules": names, "roots": roots}))
"""

FORBIDDEN = {"airflow", "streamlit", "console", "stack", "dags"}


def _probe() -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_etl_imports_neither_airflow_nor_streamlit_nor_the_stack():
    found = _probe()
    assert "etl.cli" in found["modules"] and "etl.ingest.csv" in found["modules"]
    assert FORBIDDEN.isdisjoint(found["roots"]), sorted(FORBIDDEN & set(found["roots"]))

