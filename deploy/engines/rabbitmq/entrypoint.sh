#!/usr/bin/env bash
# The default user, password and virtual host come from the environment, as in
# the official image; they are written to rabbitmq.conf
# (https://www.rabbitmq.com/docs/configure, "default_user", "default_pass",
# "default_vhost"). Like the official image, that user may connect from
# another host.
set -euo pipefail
{
  echo "loopback_users = none"
  echo "listeners.tcp.default = 5672"
  [ -n "${RABBITMQ_DEFAULT_USER:-}" ] && echo "default_user = ${RABBITMQ_DEFAULT_USER}"
  [ -n "${RABBITMQ_DEFAULT_PASS:-}" ] && echo "default_pass = ${RABBITMQ_DEFAULT_PASS}"
  [ -n "${RABBITMQ_DEFAULT_VHOST:-}" ] && echo "default_vhost = ${RABBITMQ_DEFAULT_VHOST}"
  true
} >/etc/rabbitmq/rabbitmq.conf
exec "$@"
