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

# A first run starts from the migrated template database (minutes of migrations
# saved); then one Django process migrates what is new, loads the demo data and
# prints the logins.
if [ ! -f "${VMCLOUD_VAR_DIR:-var}/db.sqlite3" ] && [ -z "${DATABASE_URL:-}" ]; then
  echo "==> creating the database"
  "$PY" scripts/dbtemplate.py restore
fi
"$PY" manage.py run_prepare
echo "    Stop with Ctrl-C."
echo
exec "$VENV/bin/honcho" -f Procfile start
