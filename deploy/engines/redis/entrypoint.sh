#!/usr/bin/env bash
# Started without a configuration file, Redis would refuse every client but
# loopback (protected mode); like the official image, turn it off: the port is
# reachable only on the stack's own network.
set -euo pipefail
if [ "${1:-}" = redis-server ] && [[ "${2:-}" != *.conf ]]; then
  shift
  set -- redis-server --protected-mode no "$@"
fi
exec "$@"
