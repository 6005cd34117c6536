"""50 concurrent POST /api/v1/orders/ with one Idempotency-Key: one order, one reservation, one VM.

Real PostgreSQL, one connection per thread (``transaction=True``): the
unique constraint on (organisation, idempotency key) makes the later
requests wait for the first transaction, then replay its stored response.
At most ``IN_FLIGHT`` threads hold a connection at once because
``max_connections`` (100 by default) is shared with other test runs; the
barrier still releases all 50 requests together. Provisioning is not run:
the task the instance would enqueue is recorded instead (its Celery tests
live with apps.instances).
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.infrastructure import choices as infrastructure_choices
from apps.infrastructure.models import Reservation
from apps.instances.models import Instance
from apps.instances.services import access as instance_services
from apps.orders.models import Order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REQUESTS = 50
IN_FLIGHT = 30


def test_fifty_concurrent_requests_with_one_key_make_one_order_and_one_vm(monkeypatch, personas, shop):
    enqueued: list[tuple[str, tuple]] = []
    monkeypatch.setattr(instance_services, "task_enqueue", lambda name, *args: enqueued.append((name, args)))
    data = {
        "project": personas.project.pk,
        "offer": shop.vps.code,
        "datacentre": shop.dc.code,
        "image": shop.image.slug,
        "name": "race-1",
    }
    barrier = threading.Barrier(REQUESTS)
    door = threading.BoundedSemaphore(IN_FLIGHT)
    lock = threading.Lock()
    responses: list[tuple[int, object]] = []
    failures: Counter = Counter()

    def request() -> None:
        client = APIClient()
        client.force_authenticate(personas.member)
        barrier.wait()
        with door:
            try:
                response = client.post("/api/v1/orders/", data, format="json", headers={"Idempotency-Key": "race"})
                with lock:
                    responses.append((response.status_code, response.json()))
            except Exception as exc:  # a deadlock or an unhandled IntegrityError would land here
                with lock:
                    failures[type(exc).__name__] += 1
            finally:
                connection.close()

    threads = [threading.Thread(target=request) for _ in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not failures, failures
    assert len(responses) == REQUESTS
    assert Counter(code for code, _body in responses) == Counter({202: REQUESTS})
    first_body = responses[0][1]
    assert all(body == first_body for _code, body in responses)
    assert Order.objects.count() == 1
    assert Reservation.objects.exclude(state=infrastructure_choices.ReservationState.RELEASED).count() == 1
    assert Instance.objects.count() == 1
    assert len(enqueued) == 1
    order = Order.objects.get()
    assert first_body["id"] == str(order.public_id)
    assert first_body["instance"] == str(order.instance.public_id)
