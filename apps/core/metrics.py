"""Prometheus metrics: the platform's own counters and histograms, and the protected ``/metrics``.

HTTP and database metrics come from django-prometheus (its middleware and
database wrappers, see config/settings/base.py). This module adds what only
the platform knows: Celery task durations and failures, Proxmox calls by
endpoint, login failures and lockouts. Gauges that are a count of rows (orders by state,
invoices, webhook events, metering lag, queue depth) are read at scrape time by
the collectors listed in ``METRICS_COLLECTORS``, so every web replica reports
the same truth.

Under gunicorn (several processes) ``PROMETHEUS_MULTIPROC_DIR`` switches
prometheus_client to its multiprocess mode: each process writes its samples to
a file there, and the scrape sums them. Celery workers serve theirs on
``METRICS_WORKER_PORT``. Docs: apps/docs/content/production.md ("Metrics"),
https://prometheus.github.io/client_python/multiprocess/
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
from typing import Any

from celery import signals as celery_signals
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

CELERY_TASK_SECONDS = Histogram(
    "vmcloud_celery_task_duration_seconds",
    "Run time of Celery tasks, by task name and final state.",
    ["task", "state"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800),
)
CELERY_TASK_FAILURES = Counter(
    "vmcloud_celery_task_failures_total", "Celery tasks that raised, by task name and exception.", ["task", "exception"]
)
CELERY_TASK_RETRIES = Counter("vmcloud_celery_task_retries_total", "Celery task retries, by task name.", ["task"])
PROXMOX_CALL_SECONDS = Histogram(
    "vmcloud_proxmox_call_duration_seconds",
    "Proxmox VE API calls, by method, endpoint (ids replaced by placeholders) and outcome.",
    ["method", "endpoint", "outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
LOGIN_FAILURES = Counter(
    "vmcloud_login_failures_total",
    "Failed logins (wrong password, unknown user); refused attempts count in vmcloud_login_lockouts_total.",
)
LOGIN_LOCKOUTS = Counter(
    "vmcloud_login_lockouts_total",
    "Login and MFA attempts refused by a lockout counter (apps/accounts/services/lockout.py), by counter.",
    ["scope"],
)

# Path segments that name one object, replaced so the endpoint label stays bounded.
_PLACEHOLDER_AFTER = {"nodes": "{node}", "qemu": "{vmid}", "lxc": "{vmid}", "tasks": "{upid}", "snapshot": "{name}"}
_NUMBER = re.compile(r"^\d+$")


def proxmox_endpoint(path: str) -> str:
    """``nodes/pve1/qemu/101/status/start`` -> ``nodes/{node}/qemu/{vmid}/status/start``."""
    parts = [p for p in path.strip("/").split("/") if p]
    out: list[str] = []
    for index, part in enumerate(parts):
        previous = parts[index - 1] if index else ""
        if previous in _PLACEHOLDER_AFTER:
            out.append(_PLACEHOLDER_AFTER[previous])
        elif _NUMBER.match(part):
            out.append("{id}")
        else:
            out.append(part)
    return "/".join(out)


def observe_proxmox_call(method: str, path: str, seconds: float, error: BaseException | None = None) -> None:
    outcome = "ok" if error is None else type(error).__name__
    PROXMOX_CALL_SECONDS.labels(method.upper(), proxmox_endpoint(path), outcome).observe(seconds)


# --- Celery -------------------------------------------------------------------------

_task_started: dict[str, float] = {}


@celery_signals.task_prerun.connect
def _task_prerun(task_id: str | None = None, **kwargs: Any) -> None:
    if task_id:
        _task_started[task_id] = time.monotonic()


@celery_signals.task_postrun.connect
def _task_postrun(task_id: str | None = None, task: Any = None, state: str | None = None, **kwargs: Any) -> None:
    started = _task_started.pop(task_id or "", None)
    if started is not None and task is not None:
        CELERY_TASK_SECONDS.labels(task.name, state or "UNKNOWN").observe(time.monotonic() - started)


@celery_signals.task_failure.connect
def _task_failure(sender: Any = None, exception: BaseException | None = None, **kwargs: Any) -> None:
    CELERY_TASK_FAILURES.labels(getattr(sender, "name", "unknown"), type(exception).__name__).inc()


@celery_signals.task_retry.connect
def _task_retry(sender: Any = None, **kwargs: Any) -> None:
    CELERY_TASK_RETRIES.labels(getattr(sender, "name", "unknown")).inc()


@celery_signals.worker_ready.connect
def _serve_worker_metrics(**kwargs: Any) -> None:
    """A worker's own /metrics on METRICS_WORKER_PORT (its pool children write to the multiprocess dir)."""
    port = int(os.environ.get("METRICS_WORKER_PORT", "0") or 0)
    if not port:
        return
    from prometheus_client import start_http_server

    start_http_server(port, registry=_registry(with_platform=False))
    logger.info("worker metrics on :%d/metrics", port)


# --- logins ---------------------------------------------------------------------------


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    LOGIN_FAILURES.inc()


def observe_lockout(scope: str) -> None:
    """An attempt refused because ``scope``'s counter (``login-pair``, ``login-ip``, ``login-account``,
    ``mfa-user``) is over its limit: no password or code was checked."""
    LOGIN_LOCKOUTS.labels(scope).inc()


# --- the /metrics view ------------------------------------------------------------------


def _registry(*, with_platform: bool) -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_Forward(REGISTRY))
    if with_platform:
        for path in settings.METRICS_COLLECTORS:
            registry.register(import_string(path)())
    return registry


class _Forward(Collector):
    """Exposes the default registry's samples through a per-scrape registry."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self):  # type: ignore[no-untyped-def]
        return self.source.collect()


def _authorised(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition; Bearer METRICS_TOKEN (for Prometheus) or a staff session."""
    if not _authorised(request):
        response = HttpResponse("Authentication required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_registry(with_platform=True)), content_type=CONTENT_TYPE_LATEST)
