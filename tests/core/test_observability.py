"""Metrics at /metrics (protected), the platform's own series, and JSON log lines with their context."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from celery import shared_task
from django.test import override_settings

from apps.core import metrics
from apps.core.logging import JsonFormatter, RequestIdFilter
from tests.factories import UserFactory

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.mark.django_db
def test_metrics_refuses_anonymous_callers(client):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"vmcloud_" not in response.content


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_refuses_a_wrong_token_and_a_non_staff_user(client):
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    client.force_login(UserFactory())
    assert client.get("/metrics").status_code == 401


@pytest.mark.django_db
def test_metrics_refuses_any_bearer_when_no_token_is_configured(client):
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_prometheus_reads_http_and_platform_metrics_with_its_token(client):
    client.get("/healthz")
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    # django-prometheus' request metrics, and the platform's scrape-time gauges.
    assert "django_http_requests_total_by_view_transport_method_total" in body
    assert 'vmcloud_celery_queue_depth{queue="provisioning"}' in body
    assert "vmcloud_celery_broker_up 1.0" in body
    assert "# HELP vmcloud_orders Orders by state." in body
    assert "# HELP vmcloud_metering_lag_seconds" in body


@pytest.mark.django_db
def test_staff_can_read_metrics_in_the_browser(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/metrics").status_code == 200


def test_proxmox_endpoints_are_bounded_labels():
    assert metrics.proxmox_endpoint("nodes/pve1/qemu/101/status/start") == "nodes/{node}/qemu/{vmid}/status/start"
    assert (
        metrics.proxmox_endpoint("/nodes/pve2/tasks/UPID:pve2:0001:0002:0003:qmstart:101:root@pam:/status")
        == "nodes/{node}/tasks/{upid}/status"
    )
    assert metrics.proxmox_endpoint("nodes/pve1/qemu/7/snapshot/nightly/rollback") == (
        "nodes/{node}/qemu/{vmid}/snapshot/{name}/rollback"
    )
    assert metrics.proxmox_endpoint("cluster/resources") == "cluster/resources"


def _sample(name: str, labels: dict[str, str]) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_proxmox_calls_are_timed_by_endpoint_and_outcome():
    labels = {"method": "POST", "endpoint": "nodes/{node}/qemu/{vmid}/status/start", "outcome": "ok"}
    before = _sample("vmcloud_proxmox_call_duration_seconds_count", labels)
    metrics.observe_proxmox_call("post", "nodes/pve9/qemu/555/status/start", 0.2)
    assert _sample("vmcloud_proxmox_call_duration_seconds_count", labels) == before + 1
    failed = {**labels, "outcome": "TimeoutError"}
    before_failed = _sample("vmcloud_proxmox_call_duration_seconds_count", failed)
    metrics.observe_proxmox_call("POST", "nodes/pve9/qemu/555/status/start", 5.0, TimeoutError())
    assert _sample("vmcloud_proxmox_call_duration_seconds_count", failed) == before_failed + 1


@shared_task(name="tests.core.observability_ok")
def _ok_task() -> str:
    return "done"


@shared_task(name="tests.core.observability_fails")
def _failing_task() -> None:
    raise ValueError("boom")


def test_celery_task_durations_and_failures_are_counted():
    ok = {"task": "tests.core.observability_ok", "state": "SUCCESS"}
    before = _sample("vmcloud_celery_task_duration_seconds_count", ok)
    _ok_task.delay()
    assert _sample("vmcloud_celery_task_duration_seconds_count", ok) == before + 1

    failed = {"task": "tests.core.observability_fails", "exception": "ValueError"}
    before_failed = _sample("vmcloud_celery_task_failures_total", failed)
    # As a worker runs it: the failure is recorded, not raised to the caller.
    assert _failing_task.apply(throw=False).failed()
    assert _sample("vmcloud_celery_task_failures_total", failed) == before_failed + 1


@pytest.mark.django_db
def test_failed_logins_are_counted(client):
    user = UserFactory()
    before = _sample("vmcloud_login_failures_total", {})
    client.post("/accounts/login/", {"login": user.email, "password": "not-the-password"})
    assert _sample("vmcloud_login_failures_total", {}) == before + 1


def _json_line(record: logging.LogRecord) -> dict:
    RequestIdFilter().filter(record)
    return json.loads(JsonFormatter(timestamp=True).format(record))


def test_json_log_lines_carry_the_proxmox_upid_and_omit_empty_fields():
    upid = "UPID:pve1:00001234:0000ABCD:6560A1B2:qmstart:101:root@pam:"
    record = logging.LogRecord("apps.x", logging.INFO, __file__, 1, "proxmox %s %s -> %s", ("POST", "p", upid), None)
    line = _json_line(record)
    assert line["message"] == f"proxmox POST p -> {upid}"
    assert line["upid"] == upid
    assert line["level"] == "INFO"
    assert "timestamp" in line
    assert "task_id" not in line and "user_id" not in line


@shared_task(name="tests.core.observability_logs")
def _logging_task() -> dict:
    record = logging.LogRecord("apps.x", logging.INFO, __file__, 1, "inside", (), None)
    return _json_line(record)


def test_json_log_lines_inside_a_task_carry_its_id_and_name():
    # .result, not .get(): an earlier test in the same process may have started a
    # worker, after which Celery refuses a blocking get() ("Never call result.get()
    # within a task"); apply() has run the task eagerly either way.
    result = _logging_task.apply(task_id="task-id-0123456789")
    assert result.successful()
    line = result.result
    assert line["task_id"] == "task-id-0123456789"
    assert line["task_name"] == "tests.core.observability_logs"


@pytest.mark.django_db
def test_json_log_lines_of_a_request_carry_its_id_user_and_organisation(rf):
    from django.http import JsonResponse

    from apps.core.logging import LogContextMiddleware
    from apps.core.middleware import RequestIdMiddleware

    user = UserFactory()
    seen: list[dict] = []

    class Token:
        organisation_id = 42

    def view(request):
        # What authentication leaves on the request: the user, and an API token naming its organisation.
        request.user = user
        request.auth = Token()
        seen.append(_json_line(logging.LogRecord("apps.x", logging.INFO, __file__, 1, "in view", (), None)))
        return JsonResponse({})

    RequestIdMiddleware(LogContextMiddleware(view))(rf.get("/x", HTTP_X_REQUEST_ID="req-0123456789"))
    assert seen[0]["request_id"] == "req-0123456789"
    assert seen[0]["user_id"] == user.pk
    assert seen[0]["organisation_id"] == 42
    # Outside the request nothing is left behind.
    after = _json_line(logging.LogRecord("apps.x", logging.INFO, __file__, 1, "after", (), None))
    assert "user_id" not in after and "request_id" not in after


@pytest.mark.django_db
def test_the_oldest_open_order_and_the_unsent_tasks_are_gauges_for_the_stuck_orders_alert(personas, shop):
    """VMCloudOrdersStuck (deploy/prometheus/alerts.yaml) reads these two series."""
    from django.utils import timezone

    from apps.core.models import UnsentTask
    from apps.orders.models import Order
    from config.metrics import PlatformCollector
    from tests.orders.conftest import place

    old, new, done = (place(personas, shop, name=f"web-{n}") for n in range(3))
    Order.objects.filter(pk__in=[old.pk, new.pk]).update(state="provisioning")
    Order.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(hours=2))
    Order.objects.filter(pk=done.pk).update(state="completed", updated_at=timezone.now() - dt.timedelta(days=9))
    UnsentTask.objects.create(task_name="core.heartbeat", args=[], error="refused")
    samples = {
        (sample.name, sample.labels.get("state", "")): sample.value
        for family in PlatformCollector().collect()
        for sample in family.samples
    }
    assert 7190 < samples[("vmcloud_orders_oldest_seconds", "provisioning")] < 7300
    assert ("vmcloud_orders_oldest_seconds", "completed") not in samples  # history is never stuck
    assert samples[("vmcloud_unsent_tasks", "")] == 1
