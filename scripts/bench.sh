#!/usr/bin/env bash
# `make bench`: run every benchmark under benchmarks/ in turn; each prints its own figures.
# Benchmarks measure speed targets (they are never timed assertions in the tests) and use
# the test settings: real PostgreSQL and Redis on 127.0.0.1, each in its own database.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
bash scripts/services.sh
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.test}"
status=0
for bench in benchmarks/*.py; do
  [ -e "$bench" ] || continue
  echo "==> $bench"
  "$VENV/bin/python" "$bench" || { echo "error: $bench failed" >&2; status=1; }
  echo
done
exit "$status"
