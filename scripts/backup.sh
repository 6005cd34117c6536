#!/usr/bin/env bash
# `make backup`: one folder with everything a restore needs.
#   db.dump   pg_dump of DATABASE_URL, custom format (parallel, selective restore)
#   keys.env  SECRET_KEY, FIELD_ENCRYPTION_KEY(S): without them the encrypted
#             columns (Proxmox token secrets) and signed links cannot be read
#   MANIFEST  when, from which migration state, with checksums
# BACKUP_DIR (default var/backups) receives <UTC timestamp>/; the folder is
# mode 0700 because keys.env is a secret: copy it off-site encrypted.
# Docs: apps/docs/content/runbook-restore.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON_BIN:-}"
if [ -z "$PY" ]; then
  if [ -x "${VENV:-.venv}/bin/python" ]; then PY="${VENV:-.venv}/bin/python"; else PY=python; fi
fi
: "${DATABASE_URL:?set DATABASE_URL (postgres://...) to the database to back up}"
case "$DATABASE_URL" in postgres://*|postgresql://*) ;; *)
  echo "error: make backup needs PostgreSQL (DATABASE_URL=postgres://...); the SQLite file of make run is var/db.sqlite3" >&2; exit 1 ;;
esac
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
dest="${BACKUP_DIR:-var/backups}/$stamp"
umask 077
mkdir -p "$dest"
started=$(date +%s)
echo "==> pg_dump -> $dest/db.dump"
pg_dump --format=custom --no-owner --no-privileges --dbname="$DATABASE_URL" --file="$dest/db.dump"
echo "==> keys -> $dest/keys.env"
{
  echo "# The keys of this platform at backup time. Keep secret; restore them with the database."
  echo "SECRET_KEY=${SECRET_KEY:-}"
  echo "FIELD_ENCRYPTION_KEY=${FIELD_ENCRYPTION_KEY:-}"
  echo "FIELD_ENCRYPTION_OLD_KEYS=${FIELD_ENCRYPTION_OLD_KEYS:-}"
} >"$dest/keys.env"
if [ -z "${SECRET_KEY:-}" ]; then
  echo "warning: SECRET_KEY is not set in this environment: keys.env holds no key (development default)" >&2
fi
{
  echo "created_utc=$stamp"
  echo "database=$(echo "$DATABASE_URL" | sed -E 's#://[^@]*@#://***@#')"
  echo "latest_migrations=$("$PY" - <<'PYEOF' 2>/dev/null || echo unknown
import os, psycopg
with psycopg.connect(os.environ["DATABASE_URL"]) as c:
    print(c.execute("select count(*), max(applied) from django_migrations").fetchone())
PYEOF
)"
  (cd "$dest" && sha256sum db.dump keys.env)
} >"$dest/MANIFEST"
echo "==> backup complete in $(( $(date +%s) - started )) s: $dest ($(du -sh "$dest" | cut -f1))"
echo "$dest"
