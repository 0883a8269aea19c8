#!/usr/bin/env bash
# Bootstrap on a fresh machine: virtualenv, install, then `medallion up`
# (services, schema, Airflow, console, a first run on a generated sample).
#   ./scripts/bootstrap.sh            set up and run the product
#   ./scripts/bootstrap.sh --no-up    set up only (what CI uses)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Python 3.11 or newer is needed (found $("$PYTHON" --version 2>&1)); set PYTHON=..." >&2
  exit 1
fi
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
   && ! command -v psql >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q --upgrade pip
# Pinned versions (constraints.txt) so that every fresh install resolves the same set.
.venv/bin/pip install -q -c constraints.txt -e '.[embedded,test]'

# Soda's CLI reads ~/.soda/config.yml before ./.soda/config.yml: keep its usage
# statistics off there too (only when the user has no such file yet).
if [ ! -f "$HOME/.soda/config.yml" ]; then
  mkdir -p "$HOME/.soda" && cp checks/soda_config.yml "$HOME/.soda/config.yml"
elif ! grep -q 'send_anonymous_usage_stats: *false' "$HOME/.soda/config.yml"; then
  echo "note: $HOME/.soda/config.yml does not turn Soda's usage statistics off; see checks/soda_config.yml" >&2
fi

if [ "${1:-}" != "--no-up" ]; then
  exec .venv/bin/medallion up
fi
