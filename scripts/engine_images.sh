#!/usr/bin/env bash
# `make engine-images`: build PostgreSQL, RabbitMQ, Redis and HAProxy images
# from Debian's packages (deploy/engines/), for a host that cannot pull the
# official images. Prints the variables that point the compose file at them
# (apps/docs/content/production.md, "Engines without a registry").
# BASE_IMAGE: the Debian base; by default the one `BUILD_BASE=1 make image`
# built, else debian:bookworm-slim.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! docker info >/dev/null 2>&1; then
  echo "error: make engine-images needs a running Docker daemon (docker info failed)" >&2
  exit 1
fi
base="${BASE_IMAGE:-}"
if [ -z "$base" ]; then
  if docker image inspect vmcloud-base/debian:bookworm >/dev/null 2>&1; then
    base=vmcloud-base/debian:bookworm
  else
    base=debian:bookworm-slim
  fi
fi
# name:tag of each engine image, tagged with the Debian package's major version.
declare -A tags=(
  [postgres]=vmcloud-engines/postgres:15
  [rabbitmq]=vmcloud-engines/rabbitmq:3.10
  [redis]=vmcloud-engines/redis:7
  [haproxy]=vmcloud-engines/haproxy:2.6
)
for engine in postgres rabbitmq redis haproxy; do
  echo "==> building ${tags[$engine]} on $base" >&2
  docker build --quiet --build-arg "BASE_IMAGE=$base" -t "${tags[$engine]}" "deploy/engines/$engine" >/dev/null
done
echo "POSTGRES_IMAGE=${tags[postgres]}"
echo "RABBITMQ_IMAGE=${tags[rabbitmq]}"
echo "REDIS_IMAGE=${tags[redis]}"
echo "HAPROXY_IMAGE=${tags[haproxy]}"
