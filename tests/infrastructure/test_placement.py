"""Placement: all-or-nothing, health, maintenance, envelopes, NVLink peers first, release."""

from __future__ import annotations

import uuid

import pytest

from apps.catalogue import choices as catalogue_choices
from apps.core.errors import Conflict, Unavailable, ValidationFailed
from apps.core.models import AuditEvent
from apps.infrastructure import choices, services
from apps.infrastructure.models import GpuDevice, IpAllocation, Node, Reservation, Storage, VmidAllocation
from apps.infrastructure.selectors import offer_availability
from tests.infrastructure.factories import (
    GpuFactory,
    GpuModelFactory,
    OfferFactory,
    envelopes,
    fleet,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def a100():
    return GpuModelFactory()


def gpu_offer(model, count=1, **kw):
    return OfferFactory(gpu_model=model, gpu_count=count, vcpu=kw.pop("vcpu", 8), ram_gb=kw.pop("ram_gb", 32), **kw)


def test_reserve_takes_node_vmid_addresses_and_counts_resources():
    envelopes()
    f = fleet(nodes=1)
    offer = OfferFactory(vcpu=4, ram_gb=8, disk_gb=100)
    holder = uuid.uuid4()

    r = services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"], holder_ref=holder)

    assert r.state == choices.ReservationState.RESERVED
    assert r.node == f["nodes"][0]
    assert r.holder_ref == holder
    assert r.template == f["template"]
    assert r.storage == f["storage"]
    assert r.vmid == f["cluster"].vmid_range_start
    assert r.ipv4 == "203.0.113.2"  # .0 network, .1 gateway
    assert r.ipv6 == "2001:db8:10::2"
    node = Node.objects.get(pk=r.node_id)
    assert (node.allocated_vcpu, node.allocated_ram_gb) == (4, 8)
    assert Storage.objects.get(pk=r.storage_id).allocated_gb == 100
    assert VmidAllocation.objects.get(reservation=r).vmid == r.vmid
    assert set(IpAllocation.objects.filter(reservation=r).values_list("address", flat=True)) == {r.ipv4, r.ipv6}
    assert AuditEvent.objects.filter(action="infrastructure.reservation.create", target_id=str(r.pk)).exists()


def test_successive_reservations_get_distinct_vmids_and_addresses():
    envelopes()
    f = fleet(nodes=2)
    offer = OfferFactory(vcpu=1, ram_gb=1, disk_gb=10)
    rs = [services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"]) for _ in range(10)]
    assert len({r.vmid for r in rs}) == 10
    assert len({r.ipv4 for r in rs}) == 10
    assert len({r.ipv6 for r in rs}) == 10


def test_released_vmid_is_not_reused_at_once():
    envelopes()
    f = fleet(nodes=1)
    offer = OfferFactory(vcpu=1, ram_gb=1, disk_gb=10)
    first = services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"])
    services.placement_release(reservation=first)
    second = services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"])
    assert second.vmid == first.vmid + 1


def test_drained_offline_and_missing_nodes_receive_nothing():
    envelopes()
    f = fleet(nodes=3)
    drained, offline, missing = f["nodes"]
    services.node_set_maintenance(node=drained, maintenance=True, reason="firmware")
    Node.objects.filter(pk=offline.pk).update(status=choices.NodeStatus.OFFLINE)
    from django.utils import timezone

    Node.objects.filter(pk=missing.pk).update(missing_since=timezone.now())
    offer = OfferFactory()
    with pytest.raises(Unavailable) as exc:
        services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"])
    assert exc.value.code == choices.UnavailableCode.NO_CAPACITY
    assert not Reservation.objects.exists()

    services.node_set_maintenance(node=drained, maintenance=False)
    assert services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"]).node_id == drained.pk


def test_envelope_limits_what_a_node_sells():
    # 64 logical CPUs x oversell 2 x 70% = 89 sellable vCPU; RAM and disk unconstrained here.
    from apps.catalogue.models import CapacityEnvelope

    envelopes()
    CapacityEnvelope.objects.filter(resource="vcpu").update(oversell_ratio=2, target_utilisation="0.7")
    f = fleet(nodes=1)
    offer = OfferFactory(vcpu=30, ram_gb=1, disk_gb=10)
    placed = []
    for _ in range(3):
        try:
            placed.append(services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"]))
        except Unavailable:
            break
    assert len(placed) == 2  # 60 sold; 90 would exceed 89
    assert offer_availability(offer=offer, datacentre=f["dc"]).count == 0
    small = OfferFactory(vcpu=29, ram_gb=1, disk_gb=10)
    assert offer_availability(offer=small, datacentre=f["dc"]).count == 1


def test_multi_gpu_request_never_half_succeeds(a100):
    envelopes()
    f = fleet(nodes=2, gpus_per_node=1, gpu_model=a100)  # two free A100s, but on different nodes
    offer = gpu_offer(a100, count=2)
    with pytest.raises(Unavailable) as exc:
        services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"])
    assert exc.value.code == choices.UnavailableCode.NO_CAPACITY
    assert GpuDevice.objects.filter(state=choices.GpuState.FREE).count() == 2
    assert not Reservation.objects.exists()
    assert not VmidAllocation.objects.exists() and not IpAllocation.objects.exists()
    # The node counters raised for the node that was tried are rolled back too.
    assert list(Node.objects.values_list("allocated_vcpu", flat=True)) == [0, 0]


def test_failure_after_the_node_step_rolls_everything_back(a100):
    envelopes()
    f = fleet(nodes=1, gpus_per_node=2, gpu_model=a100)
    # Exhaust IPv6: the last step fails, so GPUs and counters must be untouched.
    from apps.infrastructure.models import IpPool

    IpPool.objects.filter(family=6).update(is_active=False)
    with pytest.raises(Unavailable) as exc:
        services.placement_reserve(offer=gpu_offer(a100, 2), datacentre=f["dc"], image=f["image"])
    assert exc.value.code == choices.UnavailableCode.NO_IPV6
    assert GpuDevice.objects.filter(state=choices.GpuState.FREE).count() == 2
    assert Node.objects.get().allocated_vcpu == 0
    assert not VmidAllocation.objects.exists() and not IpAllocation.objects.exists()


def test_nvlink_peers_first_for_multi_gpu(a100):
    envelopes()
    f = fleet(nodes=1, gpu_model=a100)
    node = f["nodes"][0]
    loose = [GpuFactory(node=node, gpu_model=a100, pci_address=f"0000:0{i}:00.0") for i in range(1, 3)]
    pair = [
        GpuFactory(node=node, gpu_model=a100, pci_address=addr, nvlink_peer_group="nv0")
        for addr in ("0000:41:00.0", "0000:61:00.0")
    ]
    quad = [
        GpuFactory(node=node, gpu_model=a100, pci_address=f"0000:{b}:00.0", nvlink_peer_group="nv1")
        for b in ("81", "a1", "c1", "e1")
    ]
    two = services.placement_reserve(offer=gpu_offer(a100, 2), datacentre=f["dc"], image=f["image"])
    assert set(two.gpus.values_list("pk", flat=True)) == {g.pk for g in pair}  # the whole pair: best fit

    one = services.placement_reserve(offer=gpu_offer(a100, 1), datacentre=f["dc"], image=f["image"])
    assert one.gpus.get().pk in {g.pk for g in loose}  # unbridged first: the quad stays whole

    four = services.placement_reserve(offer=gpu_offer(a100, 4), datacentre=f["dc"], image=f["image"])
    assert set(four.gpus.values_list("pk", flat=True)) == {g.pk for g in quad}


def test_choose_gpus_spans_fewest_groups_when_no_group_fits():
    free = [(1, "a", "01"), (2, "a", "02"), (3, "b", "03"), (4, "", "04"), (5, "b", "05"), (6, "b", "06")]
    assert set(services.choose_gpus(free, 4)) == {3, 5, 6, 1}
    assert services.choose_gpus(free, 7) is None
    assert services.choose_gpus(free, 3) == [3, 5, 6]


def test_gpu_envelope_keeps_spares_and_availability_is_true(a100):
    envelopes(gpu={a100: "0.8"})
    f = fleet(nodes=5, gpus_per_node=1, gpu_model=a100)  # 5 A100s, 80% sellable: 4
    offer = gpu_offer(a100, 1)
    assert offer_availability(offer=offer, datacentre=f["dc"]).count == 4
    for _ in range(4):
        services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"])
    availability = offer_availability(offer=offer, datacentre=f["dc"])
    assert (availability.count, availability.reason) == (0, choices.UnavailableCode.GPU_ENVELOPE)
    with pytest.raises(Unavailable) as exc:
        services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"])
    assert exc.value.code == choices.UnavailableCode.GPU_ENVELOPE


def test_faulty_missing_and_unmapped_gpus_are_not_placed(a100):
    envelopes()
    f = fleet(nodes=3, gpus_per_node=1, gpu_model=a100)
    g1, g2, g3 = f["gpus"]
    services.gpu_mark_faulty(gpu=g1, reason="Xid 79")
    from django.utils import timezone

    GpuDevice.objects.filter(pk=g2.pk).update(missing_since=timezone.now())
    GpuDevice.objects.filter(pk=g3.pk).update(mapping_name="")
    offer = gpu_offer(a100, 1)
    assert offer_availability(offer=offer, datacentre=f["dc"]).count == 0
    with pytest.raises(Unavailable):
        services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"])


def test_release_frees_everything_and_is_idempotent(a100):
    envelopes()
    f = fleet(nodes=1, gpus_per_node=2, gpu_model=a100)
    offer = gpu_offer(a100, 2)
    r = services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"])
    assert GpuDevice.objects.filter(reservation=r, state=choices.GpuState.RESERVED).count() == 2

    services.placement_commit(reservation=r)
    assert GpuDevice.objects.filter(reservation=r, state=choices.GpuState.IN_USE).count() == 2

    services.placement_release(reservation=r)
    services.placement_release(reservation=r)  # idempotent
    r.refresh_from_db()
    assert r.state == choices.ReservationState.RELEASED and r.released_at
    assert GpuDevice.objects.filter(state=choices.GpuState.FREE, reservation=None).count() == 2
    node = Node.objects.get()
    assert (node.allocated_vcpu, node.allocated_ram_gb) == (0, 0)
    assert Storage.objects.get().allocated_gb == 0
    assert not VmidAllocation.objects.exists() and not IpAllocation.objects.exists()
    assert AuditEvent.objects.filter(action="infrastructure.reservation.release").count() == 1
    with pytest.raises(Conflict):
        services.placement_commit(reservation=r)
    # Everything is placeable again.
    assert services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"]).gpu_count == 2


def test_gpu_marked_faulty_while_held_stays_faulty_after_release(a100):
    envelopes()
    f = fleet(nodes=1, gpus_per_node=1, gpu_model=a100)
    r = services.placement_reserve(offer=gpu_offer(a100, 1), datacentre=f["dc"], image=f["image"])
    services.gpu_mark_faulty(gpu=f["gpus"][0], reason="ECC errors")
    with pytest.raises(Conflict):
        services.gpu_mark_free(gpu=f["gpus"][0])
    services.placement_release(reservation=r)
    gpu = GpuDevice.objects.get()
    assert (gpu.state, gpu.reservation_id) == (choices.GpuState.FAULTY, None)
    services.gpu_mark_free(gpu=gpu)
    assert GpuDevice.objects.get().state == choices.GpuState.FREE


def test_maintenance_datacentre_and_wrong_datacentre_are_unavailable():
    envelopes()
    f = fleet(nodes=1)
    offer = OfferFactory()
    f["dc"].status = catalogue_choices.DatacentreStatus.MAINTENANCE
    f["dc"].save()
    with pytest.raises(Unavailable) as exc:
        services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"])
    assert exc.value.code == choices.UnavailableCode.DATACENTRE_MAINTENANCE
    f["dc"].status = catalogue_choices.DatacentreStatus.OPERATIONAL
    f["dc"].save()

    from tests.infrastructure.factories import DatacentreFactory

    offer.datacentres.set([DatacentreFactory(code="AMS-1")])
    with pytest.raises(Unavailable) as exc:
        services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"])
    assert exc.value.code == choices.UnavailableCode.NOT_IN_DATACENTRE


def test_no_template_for_image_is_unavailable():
    envelopes()
    f = fleet(nodes=1)
    from tests.infrastructure.factories import OsImageFactory

    debian = OsImageFactory(slug="debian-12", family="Debian", version="12")
    with pytest.raises(Unavailable) as exc:
        services.placement_reserve(offer=OfferFactory(), datacentre=f["dc"], image=debian)
    assert exc.value.code == choices.UnavailableCode.NO_TEMPLATE


def test_non_vm_offer_and_too_small_plan_are_rejected():
    envelopes()
    f = fleet(nodes=1)
    with pytest.raises(ValidationFailed):
        services.placement_reserve(offer=OfferFactory(vcpu=None, ram_gb=None), datacentre=f["dc"], image=f["image"])
    f["image"].min_ram_gb = 16
    f["image"].save()
    with pytest.raises(ValidationFailed):
        services.placement_reserve(offer=OfferFactory(ram_gb=8), datacentre=f["dc"], image=f["image"])


def test_node_recount_rebuilds_counters_from_reservations():
    envelopes()
    f = fleet(nodes=1)
    offer = OfferFactory(vcpu=2, ram_gb=4, disk_gb=20)
    services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"])
    Node.objects.update(allocated_vcpu=50, allocated_ram_gb=0)
    node = services.node_recount(node=f["nodes"][0])
    assert (node.allocated_vcpu, node.allocated_ram_gb) == (2, 4)


def test_gpu_offers_clone_gpu_templates_and_cpu_offers_the_others(a100):
    envelopes()
    f = fleet(nodes=1, gpus_per_node=1, gpu_model=a100)
    assert (
        services.placement_reserve(offer=gpu_offer(a100), datacentre=f["dc"], image=f["image"]).template
        == (f["gpu_template"])
    )
    assert (
        services.placement_reserve(offer=OfferFactory(), datacentre=f["dc"], image=f["image"]).template
        == (f["template"])
    )


def test_shared_storage_envelope_is_counted_once_for_the_datacentre():
    envelopes(storage="0.5")
    f = fleet(nodes=3)
    Storage.objects.update(capacity_gb=1000)  # 500 GB sellable, shared by the 3 nodes
    offer = OfferFactory(vcpu=1, ram_gb=1, disk_gb=200)
    assert offer_availability(offer=offer, datacentre=f["dc"]).count == 2
    services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"])
    services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"])
    with pytest.raises(Unavailable):
        services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"])
    assert Storage.objects.get().allocated_gb == 400
    assert Node.objects.filter(allocated_vcpu=0).count() == 1  # spread over the nodes


# ---------------------------------------------------------------------------
# Storage follows the template; resize
# ---------------------------------------------------------------------------
def test_cluster_wide_template_puts_the_disk_on_shared_storage_even_with_local_room():
    from tests.infrastructure.factories import StorageFactory

    envelopes()
    f = fleet(nodes=1)
    StorageFactory(cluster=f["cluster"], node=f["nodes"][0], capacity_gb=5000)  # local, listed first
    offer = OfferFactory(vcpu=1, ram_gb=1, disk_gb=50)

    r = services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"])

    assert r.storage == f["storage"]  # the shared one: the clone may come from another node
    assert Storage.objects.get(pk=f["storage"].pk).allocated_gb == 50
    assert Storage.objects.filter(node__isnull=False).get().allocated_gb == 0


def test_node_template_puts_the_disk_on_local_storage_first():
    from tests.infrastructure.factories import StorageFactory, TemplateFactory

    envelopes()
    f = fleet(nodes=1)
    node = f["nodes"][0]
    local = StorageFactory(cluster=f["cluster"], node=node, capacity_gb=5000)
    TemplateFactory(cluster=f["cluster"], node=node, os_image=f["image"], vmid=8000)
    r = services.placement_reserve(
        offer=OfferFactory(vcpu=1, ram_gb=1, disk_gb=50), datacentre=f["dc"], image=f["image"]
    )
    assert r.storage == local
    assert r.template.node_id == node.pk


def test_node_without_template_and_only_local_storage_is_not_chosen():
    from tests.infrastructure.factories import StorageFactory

    envelopes()
    f = fleet(nodes=1)
    Storage.objects.all().delete()
    StorageFactory(cluster=f["cluster"], node=f["nodes"][0], capacity_gb=5000)
    with pytest.raises(Unavailable):
        services.placement_reserve(
            offer=OfferFactory(vcpu=1, ram_gb=1, disk_gb=50), datacentre=f["dc"], image=f["image"]
        )
    assert Node.objects.get().allocated_vcpu == 0


def test_resize_grows_node_and_storage_counters():
    envelopes()
    f = fleet(nodes=1)
    small = OfferFactory(vcpu=2, ram_gb=4, disk_gb=20)
    big = OfferFactory(vcpu=4, ram_gb=8, disk_gb=80)
    r = services.placement_reserve(offer=small, datacentre=f["dc"], image=f["image"])

    extra = services.placement_resize(reservation=r, offer=big)

    assert extra == {"vcpu": 2, "ram_gb": 4, "disk_gb": 60}
    r.refresh_from_db()
    assert (r.offer, r.vcpu, r.ram_gb, r.disk_gb) == (big, 4, 8, 80)
    node = Node.objects.get()
    assert (node.allocated_vcpu, node.allocated_ram_gb) == (4, 8)
    assert Storage.objects.get().allocated_gb == 80
    assert AuditEvent.objects.filter(action="infrastructure.reservation.resize", target_id=str(r.pk)).exists()
    services.placement_release(reservation=r)
    assert (Node.objects.get().allocated_vcpu, Storage.objects.get().allocated_gb) == (0, 0)


def test_resize_without_storage_room_changes_nothing():
    envelopes()
    f = fleet(nodes=1)
    Storage.objects.update(capacity_gb=100)
    small = OfferFactory(vcpu=2, ram_gb=4, disk_gb=20)
    r = services.placement_reserve(offer=small, datacentre=f["dc"], image=f["image"])

    with pytest.raises(Unavailable) as exc:
        services.placement_resize(reservation=r, offer=OfferFactory(vcpu=4, ram_gb=8, disk_gb=200))

    assert exc.value.code == "resize_unavailable"
    node = Node.objects.get()
    assert (node.allocated_vcpu, node.allocated_ram_gb) == (2, 4)  # the node's growth was rolled back
    assert Storage.objects.get().allocated_gb == 20
    r.refresh_from_db()
    assert (r.offer, r.vcpu, r.disk_gb) == (small, 2, 20)


def test_resize_beyond_the_node_envelope_is_unavailable():
    envelopes(vcpu="0.5")
    f = fleet(nodes=1)  # 64 cores x 0.5 = 32 sellable
    r = services.placement_reserve(
        offer=OfferFactory(vcpu=16, ram_gb=4, disk_gb=20), datacentre=f["dc"], image=f["image"]
    )
    Node.objects.update(allocated_vcpu=30)
    with pytest.raises(Unavailable):
        services.placement_resize(reservation=r, offer=OfferFactory(vcpu=20, ram_gb=4, disk_gb=20))
    assert Node.objects.get().allocated_vcpu == 30


def test_resize_of_a_released_reservation_is_a_conflict():
    envelopes()
    f = fleet(nodes=1)
    r = services.placement_reserve(
        offer=OfferFactory(vcpu=2, ram_gb=4, disk_gb=20), datacentre=f["dc"], image=f["image"]
    )
    services.placement_release(reservation=r)
    with pytest.raises(Conflict):
        services.placement_resize(reservation=r, offer=OfferFactory(vcpu=4, ram_gb=8, disk_gb=40))
