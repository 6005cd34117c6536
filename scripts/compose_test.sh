#!/usr/bin/env bash
# `make compose-test`: start deploy/compose on this host, then check that web
# answers /readyz through the proxy, a worker completes a task and beat
# schedules one; tear everything down. Needs a Docker daemon and the image
# (make image). Loopback only. LOCAL_ENGINES=1: the engines are built from
# Debian's packages first (scripts/engine_images.sh), for a host with no registry.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! docker info >/dev/null 2>&1; then
  echo "error: make compose-test needs a running Docker daemon (docker info failed)" >&2
  exit 1
fi
export COMPOSE_PROJECT_NAME=vmcloud-smoke HTTP_PORT="${HTTP_PORT:-18080}" HTTP_BIND=127.0.0.1
if [ "${LOCAL_ENGINES:-0}" = "1" ]; then
  echo "==> building the engine images from Debian's packages"
  engines="$(bash scripts/engine_images.sh)"
  echo "$engines"
  while IFS= read -r line; do export "${line?}"; done <<<"$engines"
fi
env_file=deploy/compose/.env
created_env=0
if [ ! -f "$env_file" ]; then
  sed -e "s/change-me-a-fernet-key/$(.venv/bin/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')/" \
      -e 's/cloud.example.com/127.0.0.1/g' -e 's#https://127.0.0.1#http://127.0.0.1#g' deploy/compose/env.example >"$env_file"
  echo "SECURE_SSL_REDIRECT=false" >>"$env_file"
  created_env=1
fi
compose=(docker compose -f deploy/compose/compose.yaml)
cleanup() {
  "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  [ "$created_env" = 1 ] && rm -f "$env_file"
}
trap cleanup EXIT
echo "==> starting the stack"
started=$SECONDS
"${compose[@]}" up -d --wait --wait-timeout 300
echo "==> up and healthy in $((SECONDS - started)) s"
"${compose[@]}" ps --format 'table {{.Service}}\t{{.Image}}\t{{.Status}}\t{{.Ports}}'
echo "==> web answers /readyz through the proxy"
curl -fsS "http://127.0.0.1:${HTTP_PORT}/readyz" -H "Host: 127.0.0.1"
echo
echo "==> a worker completes a task (core.heartbeat on the default queue)"
"${compose[@]}" exec -T web python manage.py shell -c \
  "from apps.core.tasks import heartbeat; r = heartbeat.apply_async(); print('sent', r.id)"
for _ in $(seq 1 60); do
  if "${compose[@]}" logs worker-general 2>&1 | grep -q "core.heartbeat.*succeeded"; then echo "ok"; break; fi
  sleep 2
done
"${compose[@]}" logs worker-general 2>&1 | grep -q "core.heartbeat.*succeeded"
echo "==> beat schedules a task"
for _ in $(seq 1 60); do
  if "${compose[@]}" logs beat 2>&1 | grep -q "Sending due task"; then echo "ok"; break; fi
  sleep 2
done
"${compose[@]}" logs beat 2>&1 | grep -q "Sending due task"
echo "==> compose smoke test passed in $((SECONDS - started)) s after the start"
