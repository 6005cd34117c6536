#!/usr/bin/env bash
# The whole test suite and its quality gates (the README's `make test`).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
bash scripts/bootstrap.sh
bash scripts/services.sh
export DJANGO_SETTINGS_MODULE=config.settings.test
PY="$VENV/bin/python"

if ! command -v chromium >/dev/null 2>&1; then
  echo "error: browser tests need Debian's chromium: apt-get install chromium" >&2
  exit 1
fi
for tool in promtool kubectl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: the deployment checks need $tool (promtool: apt-get install prometheus; kubectl with kustomize >= 5)" >&2
    exit 1
  fi
done
if [ ! -x /usr/sbin/haproxy ]; then
  echo "error: the load balancer tests run Debian's haproxy: apt-get install haproxy" >&2
  exit 1
fi
if ! command -v xmlsec1 >/dev/null 2>&1; then
  echo "error: SAML tests need xmlsec1 (pysaml2 signs with it): apt-get install xmlsec1" >&2
  exit 1
fi

echo "==> ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
echo "==> import contracts"
"$VENV/bin/lint-imports" --no-cache
echo "==> mypy"
"$VENV/bin/mypy" apps config
echo "==> migrations are complete"
# The consistency check only needs a reachable database, not the app database.
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}" \
  "$PY" manage.py makemigrations --check --dry-run >/dev/null || {
  echo "error: models changed without migrations: run 'make migrations'" >&2; exit 1; }
echo "==> OpenAPI schema (no warnings)"
"$PY" manage.py spectacular --validate --fail-on-warn --file /dev/null
echo "==> pytest"
WORKERS="${PYTEST_WORKERS:-2}"
# tests/contract runs schemathesis against a live server inside this run (its database
# and a worker already exist) and writes its figures here; they are shown after the run.
CONTRACT_FIGURES="var/contract/schemathesis.txt"
export CONTRACT_FIGURES
rm -f "$CONTRACT_FIGURES"
status=0
"$VENV/bin/pytest" -n "$WORKERS" --dist loadgroup "$@" || status=$?
if [ -f "$CONTRACT_FIGURES" ]; then
  echo "==> API contract (schemathesis against a live server)"
  cat "$CONTRACT_FIGURES"
fi
exit "$status"
