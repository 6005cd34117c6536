#!/usr/bin/env bash
# The image's roles. One image, the first argument picks what runs:
#   web | worker | beat | console | migrate | manage <command...> | backup | restore <dir>
# Beat and the workers wait for the migrate job (wait_for_migrations): started
# alongside it, beat died on a table that did not exist yet.
# Docs: apps/docs/content/production.md.
set -euo pipefail
role="${1:-web}"
shift || true
mkdir -p "${PROMETHEUS_MULTIPROC_DIR:-/tmp/metrics}"
case "$role" in
  web)
    # A fresh metrics directory per start: stale files of dead processes would be summed in.
    rm -f "${PROMETHEUS_MULTIPROC_DIR:-/tmp/metrics}"/*.db
    exec gunicorn --config deploy/gunicorn.conf.py config.wsgi:application "$@" ;;
  worker)
    python manage.py wait_for_migrations --timeout "${MIGRATIONS_WAIT_SECONDS:-600}"
    exec celery -A config worker \
      --queues "${CELERY_QUEUES:-default,provisioning,billing,notifications}" \
      --concurrency "${CELERY_CONCURRENCY:-2}" \
      --hostname "${CELERY_QUEUES:-all}@%h" \
      --loglevel "${LOG_LEVEL:-INFO}" "$@" ;;
  beat)
    python manage.py wait_for_migrations --timeout "${MIGRATIONS_WAIT_SECONDS:-600}"
    # DatabaseScheduler keeps the schedule in PostgreSQL; the pidfile and state go to /tmp.
    exec celery -A config beat --loglevel "${LOG_LEVEL:-INFO}" --pidfile /tmp/celerybeat.pid "$@" ;;
  console)
    exec python manage.py consoleproxy --host 0.0.0.0 --port "${CONSOLE_PORT:-8010}" "$@" ;;
  migrate)
    exec python manage.py migrate --noinput "$@" ;;
  manage)
    exec python manage.py "$@" ;;
  backup)
    exec bash scripts/backup.sh "$@" ;;
  restore)
    exec bash scripts/restore.sh "$@" ;;
  *)
    exec "$role" "$@" ;;
esac
