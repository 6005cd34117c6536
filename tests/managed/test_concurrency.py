"""Races on one managed service against real PostgreSQL: exactly one outcome (the service row's lock).

Two cancels at once: one cancels, the other gets 409 ``service_ended``; a cancel racing staff's
delivery: either the delivery lands first and the cancel ends an active service (one price period,
closed), or the cancel lands first and the delivery is a 409 (never billed). Never both, never a
second transition or an open price period on an ended service.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from apps.core.errors import ApplicationError, Conflict
from apps.managed import services
from apps.managed.choices import ServiceState
from apps.managed.models import ManagedService
from tests.managed.factories import service_row

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` at once in threads (one connection each); their results or the ApplicationError raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except ApplicationError as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_cancels_at_once_give_one_cancellation(personas, shop):
    for round_ in range(3):
        service = service_row(personas, shop, name=f"site-{round_}")
        results = _race(
            lambda s=service: services.service_cancel(service=s, actor=personas.owner, confirm_name=s.name),
            lambda s=service: services.service_cancel(service=s, actor=personas.admin, confirm_name=s.name),
        )
        errors = [r for r in results if isinstance(r, ApplicationError)]
        assert len(errors) == 1 and isinstance(errors[0], Conflict) and errors[0].code == "service_ended"
        service.refresh_from_db()
        assert service.state == ServiceState.CANCELLED
        assert service.transitions.filter(to_state=ServiceState.CANCELLED).count() == 1
        assert service.price_periods.get().ended_at == service.ended_at


def test_cancel_racing_delivery_has_exactly_one_outcome(personas, shop):
    outcomes = set()
    for round_ in range(4):
        service = service_row(personas, shop, name=f"race-{round_}", active=False)
        results = _race(
            lambda s=service: services.service_cancel(service=s, actor=personas.owner, confirm_name=s.name),
            lambda s=service: services.service_deliver(
                service=s, actor=personas.staff, endpoints={"urls": ["https://x.example"]}, credentials={"p": "w"}
            ),
        )
        cancel, deliver = results
        assert not isinstance(cancel, ApplicationError)  # a cancel of a live service always wins its turn
        service = ManagedService.objects.get(pk=service.pk)
        assert service.state == ServiceState.CANCELLED
        periods = list(service.price_periods.all())
        if isinstance(deliver, Conflict):
            outcomes.add("cancel first")
            assert periods == [] and service.activated_at is None
            assert list(service.transitions.values_list("to_state", flat=True)) == ["provisioning", "cancelled"]
        else:
            outcomes.add("deliver first")
            assert len(periods) == 1 and periods[0].ended_at == service.ended_at
            assert list(service.transitions.values_list("to_state", flat=True)) == [
                "provisioning",
                "active",
                "cancelled",
            ]
        assert not service.secrets.exists()  # an ended service keeps no secret
    assert outcomes  # at least one order was seen (which one is up to the scheduler)
