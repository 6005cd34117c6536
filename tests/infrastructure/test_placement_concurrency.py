"""Placement under concurrency, on PostgreSQL: the last 3 free A100s are never double-booked.

200 threads, each with its own database connection, race for the last 3
free A100s; the race is run 5 times and must give exactly 3 winners and no GPU
held twice every time. PostgreSQL's ``max_connections`` (100 by default) is
shared with other test runs, so at most ``IN_FLIGHT`` threads hold a
connection at once: like an application server's pool, the other threads wait
at the door, then race the ones already inside.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import close_old_connections, connection

from apps.core.errors import Unavailable
from apps.infrastructure import choices, services
from apps.infrastructure.models import GpuDevice, Node, Reservation
from tests.infrastructure.factories import GpuFactory, GpuModelFactory, OfferFactory, envelopes, fleet

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

RACERS = 200
RUNS = 5
IN_FLIGHT = 40


def _race(offer, datacentre, image) -> tuple[list[Reservation], Counter]:
    barrier = threading.Barrier(RACERS)
    door = threading.BoundedSemaphore(IN_FLIGHT)
    winners: list[Reservation] = []
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def racer() -> None:
        barrier.wait()
        with door:
            try:
                reservation = services.placement_reserve(offer=offer, datacentre=datacentre, image=image)
            except Unavailable as exc:
                with lock:
                    outcomes[exc.code] += 1
            except Exception as exc:  # a deadlock or integrity error would land here
                with lock:
                    outcomes[type(exc).__name__] += 1
            else:
                with lock:
                    winners.append(reservation)
                    outcomes["won"] += 1
            finally:
                connection.close()

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    close_old_connections()
    return winners, outcomes


def test_200_concurrent_reservations_share_the_last_3_a100s_exactly():
    assert connection.vendor == "postgresql"
    a100 = GpuModelFactory()
    envelopes(gpu={a100: "1"})
    f = fleet(nodes=3, gpu_model=a100)
    # 10 A100s over 3 nodes; 7 are taken by committed reservations, 3 stay free.
    for i, node in enumerate(f["nodes"]):
        for slot in range(4 if i < 2 else 2):
            GpuFactory(node=node, gpu_model=a100, pci_address=f"0000:{0x21 + slot * 0x20:02x}:00.0")
    offer = OfferFactory(gpu_model=a100, gpu_count=1, vcpu=4, ram_gb=16, disk_gb=100)
    for _ in range(7):
        services.placement_commit(
            reservation=services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"])
        )
    assert GpuDevice.objects.filter(state=choices.GpuState.FREE).count() == 3

    for run in range(RUNS):
        winners, outcomes = _race(offer, f["dc"], f["image"])
        assert outcomes["won"] == 3, f"run {run}: {outcomes}"
        assert sum(outcomes.values()) == RACERS
        assert set(outcomes) <= {"won", choices.UnavailableCode.GPU_ENVELOPE, choices.UnavailableCode.NO_CAPACITY}
        held = list(GpuDevice.objects.exclude(state=choices.GpuState.FREE).values_list("pk", "reservation_id"))
        assert len(held) == 10
        assert Counter(r for _gpu, r in held).most_common(1)[0][1] == 1  # one GPU per reservation
        assert GpuDevice.objects.filter(reservation__in=winners).count() == 3
        assert len({r.vmid for r in winners}) == 3 and len({r.ipv4 for r in winners}) == 3
        # Node counters agree with the reservations (nothing leaked from the losers).
        for node in Node.objects.all():
            before = (node.allocated_vcpu, node.allocated_ram_gb)
            after = services.node_recount(node=node)
            assert before == (after.allocated_vcpu, after.allocated_ram_gb)
        for reservation in winners:
            services.placement_release(reservation=reservation)
        assert GpuDevice.objects.filter(state=choices.GpuState.FREE).count() == 3


def test_concurrent_multi_gpu_requests_never_half_succeed():
    assert connection.vendor == "postgresql"
    a100 = GpuModelFactory()
    envelopes(gpu={a100: "1"})
    f = fleet(nodes=3, gpus_per_node=3, gpu_model=a100)  # 9 GPUs, 3 per node: one 2-GPU VM per node
    offer = OfferFactory(gpu_model=a100, gpu_count=2, vcpu=4, ram_gb=16, disk_gb=100)
    winners, outcomes = _race(offer, f["dc"], f["image"])
    assert outcomes["won"] == 3, outcomes
    assert sum(outcomes.values()) == RACERS
    for reservation in winners:
        gpus = list(GpuDevice.objects.filter(reservation=reservation))
        assert len(gpus) == 2 and gpus[0].node_id == gpus[1].node_id == reservation.node_id
    assert GpuDevice.objects.filter(state=choices.GpuState.RESERVED).count() == 6
    assert GpuDevice.objects.filter(state=choices.GpuState.FREE).count() == 3


def test_concurrent_cpu_reservations_never_oversell_a_node():
    # No datacentre lock for CPU offers: the conditional UPDATE of the node row is the guard.
    assert connection.vendor == "postgresql"
    envelopes()
    f = fleet(nodes=1)  # 64 vCPU
    offer = OfferFactory(vcpu=20, ram_gb=8, disk_gb=100)  # 3 fit, the 4th would need 80
    winners, outcomes = _race(offer, f["dc"], f["image"])
    assert outcomes == Counter({"won": 3, choices.UnavailableCode.NO_CAPACITY: RACERS - 3})
    assert Node.objects.get().allocated_vcpu == 60
    assert len({r.vmid for r in winners}) == 3
