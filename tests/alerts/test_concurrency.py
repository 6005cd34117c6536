"""Two evaluations at once, against real PostgreSQL: one incident, one notification; one resolution."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from apps.alerts import services
from apps.alerts.models import AlertIncident
from tests.alerts.conftest import points, server_row

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_evaluations_at_once_open_one_incident_and_resolve_it_once(shop, personas):
    server = server_row(shop, personas)
    policy = services.alert_policy_create(
        actor=personas.owner,
        organisation=personas.org,
        project=personas.project,
        name="cpu",
        metric="cpu",
        comparison="gt",
        threshold=Decimal("50"),
        instance=server,
    )
    now = timezone.now()
    busy = points(0.9, now=now.timestamp())

    def evaluate(rows: list[Any]) -> Callable[[], Any]:
        return lambda: services.alert_policy_evaluate(policy=policy, instance=server, points=rows, now=now)

    for _ in range(3):  # a race is not always lost the same way: try it a few times
        AlertIncident.objects.all().delete()
        mail.outbox.clear()
        results = _race(evaluate(busy), evaluate(busy), evaluate(busy))
        assert sorted(r or "" for r in results) == ["", "", "opened"]
        assert AlertIncident.objects.filter(policy=policy, resolved_at__isnull=True).count() == 1
        assert len(mail.outbox) == 1

    idle = points(0.1, now=now.timestamp())
    results = _race(evaluate(idle), evaluate(idle), evaluate(idle))
    assert sorted(r or "" for r in results) == ["", "", "resolved"]
    assert len(mail.outbox) == 2
    assert AlertIncident.objects.get(policy=policy).resolved_notified_at is not None
