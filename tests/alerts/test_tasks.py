"""The thin tasks and their wiring: beat every minute, webhooks on the notifications queue; query counts."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.alerts import services, task_names, tasks
from apps.alerts.models import AlertIncident
from tests.alerts.conftest import server_row


def test_beat_and_routes():
    assert settings.CELERY_BEAT_SCHEDULE["alerts-evaluate"] == {"task": task_names.EVALUATE, "schedule": 60.0}
    assert settings.CELERY_TASK_ROUTES[task_names.WEBHOOK_SEND] == {"queue": "notifications"}


def test_evaluate_task_runs_the_evaluation(fleet, personas, running_server, django_capture_on_commit_callbacks):
    services.alert_policy_create(
        actor=personas.owner,
        organisation=personas.org,
        project=personas.project,
        name="busy",
        metric="cpu",
        comparison="gt",
        threshold=Decimal("60"),
        label_selector="env=prod",
    )
    fleet.sim.set_cpu_load(running_server.vmid, 0.8)
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.alerts_evaluate.apply().result
    assert result == {"opened": 1, "resolved": 0, "evaluated": 1}
    assert AlertIncident.objects.get().instance_id == running_server.pk
    assert tasks.alerts_webhook_send.apply(args=[999_999, "fired"]).result == "gone"


def test_policy_lists_query_count_does_not_grow_with_policies(shop, personas, client):
    server = server_row(shop, personas)
    api = APIClient()
    api.force_authenticate(personas.owner)
    client.force_login(personas.owner)

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/api/v1/alert-policies/").status_code == 200
        with CaptureQueriesContext(connection) as page:
            assert client.get("/alerts/").status_code == 200
        return len(ctx.captured_queries), len(page.captured_queries)

    def add(n: int) -> None:
        for i in range(n):
            services.alert_policy_create(
                actor=personas.owner,
                organisation=personas.org,
                project=personas.project,
                name=f"p{n}-{i}",
                metric="memory",
                comparison="gt",
                threshold=Decimal("90"),
                instance=server,
            )

    add(1)
    one = count()
    add(5)
    assert count() == one
