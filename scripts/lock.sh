#!/usr/bin/env bash
# Refresh constraints.txt, the pinned versions of the whole dependency set (as Airflow
# pins its own): install with the extras everyone uses, check, then freeze.
#   ./scripts/lock.sh        after changing dependencies in pyproject.toml
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pip install -q -e '.[embedded,test,bench]'
.venv/bin/pip check
{
  echo "# Pinned versions of every dependency (Python 3.11, Linux). Refresh: ./scripts/lock.sh"
  echo "# Used by scripts/bootstrap.sh, .ci/run (through it) and the Dockerfile: pip install -c constraints.txt ..."
  .venv/bin/pip freeze --exclude-editable | grep -v '^-e ' | LC_ALL=C sort -f
} > constraints.txt
echo "wrote constraints.txt ($(grep -vc '^#' constraints.txt) packages)"
