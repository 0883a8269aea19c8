#!/usr/bin/env bash
# The test command of the README: every test, the long ones included.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest --slow "$@"
