#!/usr/bin/env bash
# The README's `make run`: the whole platform on embedded defaults.
# SQLite in var/, the file-system Celery broker, the Proxmox simulator, demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
REQS=requirements/dev.txt bash scripts/bootstrap.sh
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"
export PORT="${PORT:-8000}"
PY="$VENV/bin/python"
mkdir -p var/celery/queue var/celery/processed

echo "==> migrating the database"
"$PY" manage.py migrate --noinput
echo "==> loading the catalogue and demo data"
"$PY" manage.py demo_setup

echo
echo "    VMCloud is starting on http://127.0.0.1:${PORT}/"
echo "    Admin (back office): http://127.0.0.1:${PORT}/admin/"
echo "    API reference:       http://127.0.0.1:${PORT}/api/docs/"
"$PY" manage.py demo_setup --print-logins
echo "    Stop with Ctrl-C."
echo
exec "$VENV/bin/honcho" -f Procfile start
