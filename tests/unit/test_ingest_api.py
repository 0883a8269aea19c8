"""The ingest package's public API: one import path, and a cheap import for the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

_PROBE = """
import json, sys
import etl.ingest, etl.ingest.command
print(json.dumps(sorted(m for m in ("sqlalchemy", "pymongo", "bson") if m in sys.modules)))
"""


def test_importing_the_ingest_api_loads_neither_sqlalchemy_nor_pymongo():
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_public_api_is_the_package():
    import etl.ingest as api
    from etl.ingest import loading, registration

    assert api.register_files is registration.register_files
    assert api.load_registered is loading.load_registered
    assert api.KINDS == ("csv", "json")
    assert callable(api.ingest)
    assert not (ROOT / "etl" / "ingest" / "pipeline.py").exists()
    assert not (ROOT / "etl" / "ingest" / "registry.py").exists()
