"""The chaos drill's checks (scripts/chaos/harness.py ``verify``), on a tiny in-process platform.

``make chaos`` and benchmarks/many_workers_bench.py run the whole thing with
real processes, RabbitMQ and a PostgreSQL of their own; migrating that database
alone takes minutes, so here the same world (simulated fleet, catalogue, API
tokens), the same API orders and the same checks run in the test database with
eager Celery: the checks pass on a converged platform, catch a duplicate VM or
IP, a stuck order and a leaked GPU, and a Proxmox node answering 595 for a
moment does not lose a server.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from rest_framework.test import APIClient

HARNESS = Path(__file__).resolve().parents[2] / "scripts" / "chaos" / "harness.py"


def _harness():
    if "chaos_harness" not in sys.modules:
        spec = importlib.util.spec_from_file_location("chaos_harness", HARNESS)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["chaos_harness"] = module
        spec.loader.exec_module(module)
    return sys.modules["chaos_harness"]


harness = _harness()


@pytest.fixture
def platform(db, tmp_path, settings):
    settings.INSTANCES_DRIVER_OPTIONS = {
        "task_poll_interval": 0.01,
        "retries": 6,
        "backoff_base": 0.05,
        "backoff_cap": 0.5,
    }
    settings.INSTANCES_GUEST_AGENT_WAIT_SECONDS = 1
    sim = harness.start_simulator(tmp_path, cpu_nodes=2, gpu_nodes=1, gpus_per_node=2)
    try:
        yield sim, harness.build_world(sim, organisations=1)
    finally:
        sim.stop()


def _order(world, name: str, offer: str, capture) -> int:
    token, project = world.tokens[0]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    image = "ubuntu-22.04" if offer == harness.GPU_OFFER else "ubuntu-24.04"
    body = {"project": project, "offer": offer, "datacentre": "PAR-1", "image": image, "name": name}
    with capture(execute=True):  # eager Celery: provisioning runs when the order commits
        return client.post("/api/v1/orders/", body, format="json").status_code


def _failed(checks) -> set[str]:
    return {c.name for c in checks if not c.ok}


def test_checks_pass_on_a_converged_platform_and_catch_duplicates_and_leaks(
    platform, django_capture_on_commit_callbacks
):
    sim, world = platform
    for name, offer in [("t-0", harness.CPU_OFFER), ("t-1", harness.GPU_OFFER), ("t-2", harness.CPU_OFFER)]:
        assert _order(world, name, offer, django_capture_on_commit_callbacks) == 202
    assert _failed(harness.verify(sim, 3, gpu_expected=1, fresh=False)) == set()

    # A second VM in Proxmox with a server's address (a retried clone that was not detected).
    with sim.cluster.lock:
        vm = next(v for v in sim.cluster.vms.values() if not v.template)
        twin = type(vm)(**{**vm.__dict__, "vmid": 999_999})
        sim.cluster.vms[999_999] = twin
    assert {"Proxmox: one VM per server", "Proxmox: no duplicate IP"} <= _failed(
        harness.verify(sim, 3, gpu_expected=1, fresh=False)
    )
    with sim.cluster.lock:
        del sim.cluster.vms[999_999]

    # An order stuck in provisioning, and a GPU held by a reservation no server has.
    from apps.infrastructure.models import GpuDevice, Reservation
    from apps.orders.models import Order

    order = Order.objects.get(name="t-2")
    Order.objects.filter(pk=order.pk).update(state="provisioning")
    spare = GpuDevice.objects.filter(reservation=None).first()
    GpuDevice.objects.filter(pk=spare.pk).update(
        state="in_use", reservation=Reservation.objects.exclude(gpus=None).first()
    )
    failed = _failed(harness.verify(sim, 3, gpu_expected=1, fresh=False))
    assert {"every order completed", "no duplicate GPU (database)"} <= failed


def test_a_node_answering_595_for_a_moment_loses_nothing(platform, django_capture_on_commit_callbacks):
    sim, world = platform
    stop = threading.Event()

    def back_online() -> None:
        # The node comes back 0.3 s after it first answered 595 (or after 20 s).
        deadline = time.monotonic() + 20
        while not stop.is_set() and time.monotonic() < deadline:
            if any(r.status == 595 for r in list(sim.requests)):
                time.sleep(0.3)
                break
            time.sleep(0.02)
        sim.set_node_online("cpu02", True)

    sim.set_node_online("cpu02", False)
    thread = threading.Thread(target=back_online)
    thread.start()
    try:
        for i in range(4):
            assert _order(world, f"n-{i}", harness.CPU_OFFER, django_capture_on_commit_callbacks) == 202
    finally:
        stop.set()
        thread.join()
    assert any(r.status == 595 for r in sim.requests)
    checks = harness.verify(sim, 4, gpu_expected=0, fresh=False)
    assert _failed(checks) == set(), [c for c in checks if not c.ok]
