"""Inventory sync against the Proxmox simulator over HTTPS: what lands in the DB, and drift."""

from __future__ import annotations

import pytest

from apps.infrastructure import choices, services
from apps.infrastructure.models import Cluster, GpuDevice, Node, Storage, SyncReport, VmTemplate
from apps.infrastructure.proxmox import ProxmoxAuthError
from tests.infrastructure.factories import DatacentreFactory, GpuModelFactory, OsImageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    return {
        "a100": GpuModelFactory(slug="a100-80gb", name="A100 80GB", vram_gb=80, pci_device_id="20b5"),
        "rtx": GpuModelFactory(slug="rtx-4090", name="RTX 4090", vram_gb=24, pci_device_id="2684"),
        "ubuntu": OsImageFactory(slug="ubuntu-24.04"),
        "ubuntu22": OsImageFactory(slug="ubuntu-22.04", version="22.04 LTS"),
        "debian": OsImageFactory(slug="debian-12", family="Debian", version="12"),
        "dc": DatacentreFactory(code="PAR-1"),
    }


@pytest.fixture
def cluster(pvesim, catalogue) -> Cluster:
    return services.cluster_create(
        datacentre=catalogue["dc"],
        name="test",
        api_url=pvesim.url + "/api2/json",
        token_id=pvesim.token_id,
        token_secret=pvesim.token_secret,
        tls_ca_pem=pvesim.ca_path.read_text(),
    )


def test_sync_creates_nodes_gpus_storages_and_templates(cluster, catalogue):
    report = services.inventory_sync(cluster=cluster)

    assert report.status == choices.SyncStatus.OK, report.drift
    assert set(Node.objects.values_list("name", flat=True)) == {"pve1", "gpu1", "gpu2"}
    gpu1 = Node.objects.get(name="gpu1")
    assert (gpu1.cores, gpu1.ram_gb, gpu1.status, gpu1.gpu_count) == (256, 1024, "online", 3)
    assert "EPYC 7713" in gpu1.cpu_model
    gpus = {(g.node.name, g.pci_address): g for g in GpuDevice.objects.select_related("node")}
    assert set(gpus) == {
        ("gpu1", "0000:41:00.0"),
        ("gpu1", "0000:81:00.0"),
        ("gpu1", "0000:01:00.0"),
        ("gpu2", "0000:41:00.0"),
    }
    a100 = gpus[("gpu1", "0000:41:00.0")]
    assert (a100.gpu_model, a100.mapping_name, a100.iommu_group, a100.vendor_id, a100.device_id) == (
        catalogue["a100"],
        "a100-80gb",
        42,
        "10de",
        "20b5",
    )
    # The RTX 4090 is mapped whole (GPU + audio, path without function): matched by its .0 function.
    rtx = gpus[("gpu1", "0000:01:00.0")]
    assert (rtx.gpu_model, rtx.mapping_name) == (catalogue["rtx"], "rtx-4090")
    assert all(g.state == choices.GpuState.FREE for g in gpus.values())

    ceph = Storage.objects.get(name="ceph-nvme")
    assert (ceph.node, ceph.shared, ceph.capacity_gb) == (None, True, 10000 * 2**30 // 10**9)
    assert Storage.objects.filter(name="local-lvm", node__isnull=False).count() == 3

    templates = {t.vmid: t for t in VmTemplate.objects.all()}
    assert set(templates) == {9000, 9001, 9100}
    assert (templates[9000].os_image, templates[9000].node, templates[9000].gpu_ready) == (
        catalogue["ubuntu"],
        None,  # on shared Ceph: any node may clone it
        False,
    )
    assert (templates[9001].os_image, templates[9001].gpu_ready) == (catalogue["ubuntu22"], True)
    assert templates[9100].node.name == "gpu2"  # on local-lvm: only its node
    assert report.counts["gpus_created"] == 4 and report.counts["nodes_created"] == 3
    cluster.refresh_from_db()
    assert cluster.sync_status == choices.SyncStatus.OK and cluster.last_sync_at is not None


def test_sync_is_idempotent(cluster):
    services.inventory_sync(cluster=cluster)
    report = services.inventory_sync(cluster=cluster)
    assert report.status == choices.SyncStatus.OK
    assert report.counts.get("gpus_created", 0) == 0
    assert GpuDevice.objects.count() == 4 and Node.objects.count() == 3


def test_gpu_removed_from_the_cluster_is_flagged_not_deleted(cluster, pvesim):
    services.inventory_sync(cluster=cluster)
    pvesim.set_gpu_present("gpu2", "0000:41:00.0", False)

    report = services.inventory_sync(cluster=cluster)

    gone = GpuDevice.objects.get(node__name="gpu2", pci_address="0000:41:00.0")
    assert gone.missing_since is not None
    assert report.status == choices.SyncStatus.DRIFT
    assert [d["kind"] for d in report.drift] == ["gpu_missing"]
    assert "gpu2 0000:41:00.0" in report.drift[0]["object"]
    assert Node.objects.get(name="gpu2").gpu_count == 0
    cluster.refresh_from_db()
    assert cluster.sync_status == choices.SyncStatus.DRIFT

    pvesim.set_gpu_present("gpu2", "0000:41:00.0", True)
    report = services.inventory_sync(cluster=cluster)
    assert GpuDevice.objects.get(pk=gone.pk).missing_since is None
    assert [d["kind"] for d in report.drift] == ["gpu_reappeared"]


def test_sync_keeps_staff_owned_fields(cluster, catalogue):
    services.inventory_sync(cluster=cluster)
    node = Node.objects.get(name="gpu1")
    services.node_set_maintenance(node=node, maintenance=True, reason="BIOS update")
    gpu = GpuDevice.objects.get(node=node, pci_address="0000:41:00.0")
    GpuDevice.objects.filter(pk=gpu.pk).update(gpu_model=catalogue["rtx"], nvlink_peer_group="nv-a")
    Storage.objects.filter(name="ceph-nvme").update(tier=choices.StorageTier.NVME)

    report = services.inventory_sync(cluster=cluster)

    node.refresh_from_db()
    gpu.refresh_from_db()
    assert node.maintenance and node.maintenance_reason == "BIOS update"
    assert (gpu.gpu_model, gpu.nvlink_peer_group) == (catalogue["rtx"], "nv-a")
    assert Storage.objects.get(name="ceph-nvme").tier == choices.StorageTier.NVME
    assert [d["kind"] for d in report.drift] == ["gpu_model_differs"]


def test_sync_never_touches_the_ledger(cluster):
    services.inventory_sync(cluster=cluster)
    node = Node.objects.get(name="gpu1")
    Node.objects.filter(pk=node.pk).update(allocated_vcpu=16, allocated_ram_gb=64)
    Storage.objects.filter(name="ceph-nvme").update(allocated_gb=500)
    services.inventory_sync(cluster=cluster)
    node.refresh_from_db()
    assert (node.allocated_vcpu, node.allocated_ram_gb) == (16, 64)
    assert Storage.objects.get(name="ceph-nvme").allocated_gb == 500


def test_offline_node_is_recorded_and_its_gpus_are_not_flagged(cluster, pvesim):
    services.inventory_sync(cluster=cluster)
    pvesim.set_node_online("gpu2", False)
    report = services.inventory_sync(cluster=cluster)
    assert Node.objects.get(name="gpu2").status == choices.NodeStatus.OFFLINE
    assert GpuDevice.objects.get(node__name="gpu2").missing_since is None
    assert [d["kind"] for d in report.drift] == ["node_status"]


def test_bad_token_fails_the_sync_and_records_it(cluster):
    services.cluster_update(cluster=cluster, token_secret="not-the-secret")
    with pytest.raises(ProxmoxAuthError):
        services.inventory_sync(cluster=cluster)
    report = SyncReport.objects.get()
    assert report.status == choices.SyncStatus.FAILED and report.error
    cluster.refresh_from_db()
    assert cluster.sync_status == choices.SyncStatus.FAILED and cluster.last_sync_error


def test_synced_fleet_can_be_placed_on(cluster, catalogue):
    from tests.infrastructure.factories import OfferFactory, envelopes, ip_pools

    services.inventory_sync(cluster=cluster)
    envelopes()
    ip_pools(catalogue["dc"])
    offer = OfferFactory(gpu_model=catalogue["a100"], gpu_count=2, vcpu=16, ram_gb=128, disk_gb=200)
    reservation = services.placement_reserve(offer=offer, datacentre=catalogue["dc"], image=catalogue["ubuntu22"])
    assert reservation.node.name == "gpu1"
    assert reservation.template.vmid == 9001
    assert set(reservation.gpus.values_list("mapping_name", flat=True)) == {"a100-80gb"}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"bios": "seabios", "efidisk0": None}, "BIOS (SeaBIOS) template"),
        ({"efidisk0": None}, "No EFI disk (efidisk0)"),
        (
            {"efidisk0": "ceph-nvme:base-9001-disk-1,efitype=4m,pre-enrolled-keys=1,size=4M"},
            "Secure Boot keys enrolled",
        ),
    ],
)
def test_a_gpu_template_that_is_not_uefi_ready_is_flagged(cluster, pvesim, change, problem):
    report = services.inventory_sync(cluster=cluster)
    gpu_template = VmTemplate.objects.get(vmid=9001)
    assert gpu_template.gpu_ready and gpu_template.uefi_ready is True and gpu_template.uefi_problem == ""
    assert not [d for d in report.drift if d["kind"] == "template_not_uefi"]

    with pvesim.cluster.lock:
        config = pvesim.cluster.vms[9001].config
        for key, value in change.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
    report = services.inventory_sync(cluster=cluster)

    gpu_template.refresh_from_db()
    assert gpu_template.uefi_ready is False and gpu_template.uefi_problem.startswith(problem)
    flagged = [d for d in report.drift if d["kind"] == "template_not_uefi"]
    assert [d["object"] for d in flagged] == ["ubuntu-22.04-gpu (9001)"]
    assert report.status == choices.SyncStatus.DRIFT
    # A CPU template is never flagged for being BIOS-only: only GPU VMs need UEFI.
    assert VmTemplate.objects.get(vmid=9000).uefi_ready is False
    assert [d["object"] for d in flagged if "9000" in d["object"]] == []
