"""Liveness and readiness checks behind ``/healthz`` and ``/readyz``.

Liveness answers whether the process serves requests at all: it touches
nothing, so a slow database never makes Kubernetes restart healthy web pods.
Readiness answers whether this process can do useful work now: the database,
the cache and the Celery broker answer, and every migration is applied. Each
check is bounded by a short timeout; the migration check reads the graph from
disk once and remembers success for the life of the process (a new release
is a new process). Docs: apps/docs/content/production.md ("Probes"),
https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from kombu import Connection

logger = logging.getLogger(__name__)

# Seconds each network check may take before readiness reports it down.
CHECK_TIMEOUT_SECONDS = 2.0

_migrations_applied = False


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_cache() -> None:
    key = f"core:readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    value = cache.get(key)
    cache.delete(key)
    if value != "1":
        raise RuntimeError("the cache did not return what was written")


def check_broker() -> None:
    """Open (and close) a connection to the Celery broker."""
    url = settings.CELERY_BROKER_URL
    options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS or {})
    with Connection(url, connect_timeout=CHECK_TIMEOUT_SECONDS, transport_options=options) as conn:
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)


def pending_migrations() -> list[str]:
    """Names of the migrations not yet applied to the default database."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def check_migrations() -> None:
    global _migrations_applied
    if _migrations_applied:
        return
    pending = pending_migrations()
    if pending:
        raise RuntimeError(f"{len(pending)} migrations not applied (first: {pending[0]})")
    _migrations_applied = True


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "migrations": check_migrations,
}


def readiness() -> tuple[bool, dict[str, dict[str, object]]]:
    """Run every check; return whether all passed and each one's status and duration."""
    results: dict[str, dict[str, object]] = {}
    ready = True
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            check()
        except Exception as exc:  # any failure means "not ready", reported by name
            ready = False
            # The reason goes to the log only: probes are anonymous and an error
            # message can name internal hosts.
            logger.warning("readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
            results[name] = {"status": "fail"}
        else:
            results[name] = {"status": "ok"}
        results[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    return ready, results


def forget_migrations_state() -> None:
    """For tests: make the next readiness check read the migration graph again."""
    global _migrations_applied
    _migrations_applied = False
