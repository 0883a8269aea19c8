#!/usr/bin/env bash
# Refresh the README's console pictures (docs/screenshots/, docs/screenshots/live/) from
# the real browser tests. The tests themselves write to build/screenshots/ only.
set -euo pipefail
cd "$(dirname "$0")/.."
export MEDALLION_SCREENSHOTS_DIR="$PWD/docs/screenshots"
exec .venv/bin/python -m pytest --slow -q tests/e2e/test_console_browser.py \
    tests/e2e/test_console_fullstack.py "$@"
