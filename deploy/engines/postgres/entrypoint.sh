#!/usr/bin/env bash
# First start: initdb with POSTGRES_USER/POSTGRES_PASSWORD, then POSTGRES_DB,
# as the official image does (https://hub.docker.com/_/postgres, "Environment
# Variables"); password authentication over TCP, trust on the local socket.
set -euo pipefail
if [ "${1:-postgres}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
  user="${POSTGRES_USER:-postgres}"
  db="${POSTGRES_DB:-$user}"
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --pgdata="$PGDATA" --username="$user" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256
  rm -f "$pwfile"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    # Single-user mode: no server listens while the database is created.
    echo "CREATE DATABASE \"$db\";" | postgres --single -j -D "$PGDATA" postgres >/dev/null
  fi
fi
exec "$@"
