"""From order to running server on the Proxmox simulator: the API order of a GPU server, and 50
concurrent requests with one Idempotency-Key giving one order and one VM in the simulator.

Uses the instance tests' fleet (a Cluster synced from the ``pvesim`` fixture); provisioning runs
for real through eager Celery when the order's transaction commits.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.infrastructure import choices as infrastructure_choices
from apps.infrastructure.models import GpuDevice, Reservation
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.orders import services
from apps.orders.choices import OrderState
from apps.orders.models import Order
from tests.instances.conftest import _fast_driver, fleet, sim_vms  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _body(fleet, personas, name: str) -> dict:  # noqa: F811
    return {
        "project": personas.project.pk,
        "offer": fleet.gpu_offer.code,
        "datacentre": fleet.dc.code,
        "image": fleet.ubuntu22.slug,
        "name": name,
    }


def test_gpu_order_through_the_api_runs_on_the_simulator(fleet, personas):  # noqa: F811
    client = APIClient()
    client.force_authenticate(personas.member)
    response = client.post("/api/v1/orders/", _body(fleet, personas, "gpu-1"), format="json")
    assert response.status_code == 202, response.content
    order = Order.objects.get()
    instance = Instance.objects.get(pk=order.instance_id)
    assert instance.status == InstanceStatus.RUNNING, instance.error_detail
    assert instance.ipv4
    # The order followed its server when the status changed (instance_status_changed): the poll finds nothing.
    assert services.orders_sync_provisioning() == 0
    order.refresh_from_db()
    assert order.state == OrderState.COMPLETED
    assert len(sim_vms(fleet.sim)) == 1
    assert GpuDevice.objects.filter(state=infrastructure_choices.GpuState.IN_USE).count() == 1
    data = client.get(f"/api/v1/orders/{order.public_id}/").json()
    assert (data["state"], data["instance"]) == ("completed", str(instance.public_id))


def test_fifty_concurrent_requests_with_one_key_make_one_vm_in_the_simulator(fleet, personas):  # noqa: F811
    requests, in_flight = 50, 30
    body = _body(fleet, personas, "race-1")
    barrier = threading.Barrier(requests)
    door = threading.BoundedSemaphore(in_flight)
    lock = threading.Lock()
    codes: Counter = Counter()
    bodies: list[dict] = []

    def request() -> None:
        client = APIClient()
        client.force_authenticate(personas.member)
        barrier.wait()
        with door:
            try:
                response = client.post("/api/v1/orders/", body, format="json", headers={"Idempotency-Key": "e2e"})
                with lock:
                    codes[response.status_code] += 1
                    bodies.append(response.json())
            except Exception as exc:  # a deadlock or an unhandled IntegrityError would land here
                with lock:
                    codes[type(exc).__name__] += 1
            finally:
                connection.close()

    threads = [threading.Thread(target=request) for _ in range(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert codes == Counter({202: requests})
    assert all(b == bodies[0] for b in bodies)
    assert Order.objects.count() == 1
    assert Reservation.objects.count() == 1
    assert Instance.objects.count() == 1
    assert Instance.objects.get().status == InstanceStatus.RUNNING
    assert len(sim_vms(fleet.sim)) == 1
