"""fleet_bootstrap: the demo fleet file lands in the DB exactly as a sync of the simulator would put it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.catalogue.models import Datacentre, GpuSoftwareStack
from apps.infrastructure import choices, services
from apps.infrastructure.models import Cluster, GpuDevice, IpPool, Node, VmTemplate
from apps.pvesim.fleet import load_fleet
from tests.pvesim_fixtures import TEST_FLEET

pytestmark = pytest.mark.django_db

DEMO = Path(TEST_FLEET).parent / "demo.yaml"
TOKEN = "portal@pve!celery=0c9c4d0e-5d1f-4d5e-9a7e-pvesim-demo00"


@pytest.fixture
def catalogue():
    call_command("load_catalogue", verbosity=0)


def test_demo_fleet_import_has_the_seed_inventory(catalogue):
    call_command("fleet_bootstrap", fleet=str(DEMO), token=TOKEN, ca_file="var/pvesim/ca.pem", ip_pools=True)

    assert Cluster.objects.count() == 3
    assert list(Cluster.objects.order_by("api_url").values_list("api_url", flat=True)) == [
        "https://127.0.0.1:8006/api2/json",
        "https://127.0.0.1:8007/api2/json",
        "https://127.0.0.1:8008/api2/json",
    ]
    gpus = Counter(GpuDevice.objects.values_list("gpu_model__slug", flat=True))
    assert gpus == {"t4": 25, "rtx-4090": 20, "a100-40gb": 30, "a100-80gb": 10}  # 85 GPUs
    assert Node.objects.filter(name__contains="-cpu").count() == 60  # 60 EPYC servers
    assert not GpuDevice.objects.filter(mapping_name="").exists()
    # NVLink pairs come from the fleet file (PVE does not report NVLink).
    pairs = Counter(GpuDevice.objects.filter(node__name="par1-a100x-01").values_list("nvlink_peer_group", flat=True))
    assert pairs == {f"par1-a100x-01-nvl{i}": 2 for i in range(4)}
    # FRA-1 is in maintenance: its nodes are drained.
    fra = Node.objects.filter(datacentre__code="FRA-1")
    assert fra.exists() and not fra.filter(maintenance=False).exists()
    assert VmTemplate.objects.filter(gpu_ready=True, os_image__isnull=False).count() == 6
    # Every GPU software stack of the catalogue has its template, in PAR-1 where GPUs are sold.
    stacks = VmTemplate.objects.filter(gpu_stack__isnull=False)
    assert sorted(stacks.values_list("gpu_stack__slug", flat=True)) == sorted(
        GpuSoftwareStack.objects.values_list("slug", flat=True)
    )
    assert set(stacks.values_list("cluster__datacentre__code", flat=True)) == {"PAR-1"}
    assert all(t.gpu_ready and t.os_image_id == t.gpu_stack.base_image_id for t in stacks.select_related("gpu_stack"))
    assert IpPool.objects.count() == 6

    # Idempotent.
    call_command("fleet_bootstrap", fleet=str(DEMO), token=TOKEN, ca_file="var/pvesim/ca.pem", ip_pools=True)
    assert GpuDevice.objects.count() == 85 and IpPool.objects.count() == 6


def test_fleet_file_reading_agrees_with_the_simulator(catalogue, pvesim):
    """Import the test fleet from its file, then sync against the simulator serving it: no drift."""
    call_command("fleet_bootstrap", fleet=str(TEST_FLEET), token=TOKEN, api_base=pvesim.url)
    cluster = Cluster.objects.get()
    services.cluster_update(
        cluster=cluster,
        token_secret=pvesim.token_secret,
        token_id=pvesim.token_id,
        tls_ca_pem=pvesim.ca_path.read_text(),
    )
    report = services.inventory_sync(cluster=cluster)
    assert report.status == choices.SyncStatus.OK, report.drift
    fleet = load_fleet(TEST_FLEET)
    assert GpuDevice.objects.count() == sum(len(n.gpus) for n in fleet.cluster().nodes)


def test_demo_fleet_has_true_availability(catalogue):
    from apps.catalogue.models import Offer
    from apps.infrastructure.selectors import availability_matrix

    call_command("fleet_bootstrap", fleet=str(DEMO), token=TOKEN, ip_pools=True)
    offers = list(Offer.objects.filter(family__slug__in=["vps", "gpu"]))
    matrix = availability_matrix(offers=offers, datacentres=list(Datacentre.objects.all()))
    by_code = {(o.code, dc.code): matrix[(o.pk, dc.pk)] for o in offers for dc in Datacentre.objects.all()}
    assert by_code[("GPU-PRO", "PAR-1")].available
    assert not by_code[("VPS-NANO", "FRA-1")].available  # FRA-1 in maintenance
