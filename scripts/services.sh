#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1 for the test suite:
# starts them when installed but stopped; fails with the install command when missing.
set -uo pipefail

pg_ok() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null || (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
redis_ok() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

if ! pg_ok; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    version=$(ls /etc/postgresql | sort -V | tail -n1)
    echo "==> starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do pg_ok && break; sleep 1; done
  fi
  if ! pg_ok; then
    echo "error: PostgreSQL is not running on 127.0.0.1:5432 and could not be started." >&2
    echo "       Install it: apt-get install postgresql  (trust auth for 127.0.0.1, user postgres)" >&2
    echo "       or point DATABASE_URL at a server you have." >&2
    exit 1
  fi
fi

if ! redis_ok; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "==> starting Redis"
    mkdir -p /tmp/vmcloud-redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /tmp/vmcloud-redis --logfile /tmp/vmcloud-redis/redis.log || true
    for _ in $(seq 1 20); do redis_ok && break; sleep 0.5; done
  fi
  if ! redis_ok; then
    echo "error: Redis is not running on 127.0.0.1:6379 and could not be started." >&2
    echo "       Install it: apt-get install redis-server  (or set REDIS_URL)" >&2
    exit 1
  fi
fi
echo "==> PostgreSQL and Redis are up"
