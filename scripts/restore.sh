#!/usr/bin/env bash
# `make restore BACKUP=<folder>`: restore a `make backup` folder into DATABASE_URL.
# The target database must be empty (a fresh one): restoring over live data is
# refused. Afterwards the consistency check runs (gap-free invoice numbers, the
# ledger re-rated equals every invoice, every running server's VM known).
# Put the keys of keys.env back into the platform's environment (Secret) before
# starting it. Docs: apps/docs/content/runbook-restore.md.
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:-${BACKUP:-}}"
if [ -z "$src" ] || [ ! -f "$src/db.dump" ]; then
  echo "usage: make restore BACKUP=<folder made by make backup> (it has no db.dump: '$src')" >&2
  exit 2
fi
: "${DATABASE_URL:?set DATABASE_URL (postgres://...) to the empty database to restore into}"
PY="${PYTHON_BIN:-}"
if [ -z "$PY" ]; then
  if [ -x "${VENV:-.venv}/bin/python" ]; then PY="${VENV:-.venv}/bin/python"; else PY=python; fi
fi
echo "==> checking $src against its MANIFEST"
(cd "$src" && grep -E '^[0-9a-f]{64}  ' MANIFEST | sha256sum --check --quiet)
tables=$(psql "$DATABASE_URL" -Atc "select count(*) from information_schema.tables where table_schema='public'")
if [ "$tables" != "0" ]; then
  echo "error: the target database has $tables tables; restore into an empty database" >&2
  exit 1
fi
started=$(date +%s)
echo "==> pg_restore ($src/db.dump)"
pg_restore --no-owner --no-privileges --exit-on-error --jobs="${RESTORE_JOBS:-2}" --dbname="$DATABASE_URL" "$src/db.dump"
echo "==> migrations and consistency"
"$PY" manage.py wait_for_migrations --timeout 5
"$PY" manage.py consistency_check
echo "==> restore complete in $(( $(date +%s) - started )) s. Now set the keys from $src/keys.env in the platform's environment."
