"""Races between a customer cancelling a queued service order and staff delivering its service (real PostgreSQL).

Staff deliver the service in one transaction; while it is open, the customer cancels the order.
The cancel must wait for the delivery and then refuse (409): a delivered service, already billed,
is never cancelled through its order (it is cancelled on its own page, with its typed name).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from apps.core.errors import ApplicationError
from apps.managed import services as managed_services
from apps.managed.choices import ServiceState
from apps.managed.models import ManagedService
from apps.orders import services
from apps.orders.choices import OrderState
from apps.orders.models import Order
from tests.orders.conftest import place

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_cancel_racing_a_delivery_never_cancels_the_delivered_service(personas, shop, staff_user):
    order = place(personas, shop, offer=shop.service, name="shop")
    delivering = threading.Event()
    outcome: dict[str, object] = {}

    def staff() -> None:
        try:
            with transaction.atomic():
                managed_services.service_deliver(service=order.service, actor=staff_user, endpoints={}, notes="")
                delivering.set()
                time.sleep(1.0)  # the customer's cancel starts meanwhile and must wait for this commit
        finally:
            connection.close()

    def customer() -> None:
        delivering.wait(10)
        try:
            outcome["order"] = services.order_cancel(order=Order.objects.get(pk=order.pk), actor=personas.member)
        except ApplicationError as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=staff), threading.Thread(target=customer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    service = ManagedService.objects.get()
    assert service.state == ServiceState.ACTIVE and service.ended_at is None
    assert getattr(outcome.get("error"), "code", None) == "order_not_cancellable"
    assert Order.objects.get().state == OrderState.COMPLETED  # it followed its delivered service
