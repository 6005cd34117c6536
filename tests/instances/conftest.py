"""Fixtures for instance tests: a fleet synced from the Proxmox simulator and its offers.

``fleet`` points a Cluster at the ``pvesim`` fixture over HTTPS and runs the
real inventory sync, so placement, templates and GPU mappings match what the
simulator holds (apps/pvesim/fleets/test.yaml: pve1, gpu1 with 2 A100 + 1 RTX
4090, gpu2 with 1 A100; templates 9000 ubuntu-24.04, 9001 ubuntu-22.04 GPU).
Who acts is the shared ``personas`` fixture (``tests/conftest.py``); ``create_instance``
puts a server into its organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from apps.infrastructure import services as infra
from apps.instances import services
from tests.factories import Personas
from tests.infrastructure.factories import (
    DatacentreFactory,
    FamilyFactory,
    GpuModelFactory,
    OfferFactory,
    OsImageFactory,
    ip_pools,
)


@pytest.fixture(autouse=True)
def _fast_driver(settings):
    settings.INSTANCES_DRIVER_OPTIONS = {
        "task_poll_interval": 0.01,
        "retries": 2,
        "backoff_base": 0.01,
        "backoff_cap": 0.05,
    }
    settings.INSTANCES_GUEST_AGENT_WAIT_SECONDS = 5


@dataclass
class Fleet:
    cluster: Any
    dc: Any
    gpu_offer: Any
    gpu_offer_big: Any
    vps_offer: Any
    vps_offer_big: Any
    ubuntu24: Any
    ubuntu22: Any
    sim: Any


@pytest.fixture
def fleet(db, pvesim) -> Fleet:
    a100 = GpuModelFactory(slug="a100-80gb", name="A100 80GB", vram_gb=80, pci_device_id="20b5")
    GpuModelFactory(slug="rtx-4090", name="RTX 4090", vram_gb=24, pci_device_id="2684")
    ubuntu24 = OsImageFactory(slug="ubuntu-24.04")
    ubuntu22 = OsImageFactory(slug="ubuntu-22.04", version="22.04 LTS")
    OsImageFactory(slug="debian-12", family="Debian", version="12")
    dc = DatacentreFactory(code="PAR-1")
    cluster = infra.cluster_create(
        datacentre=dc,
        name="test",
        api_url=pvesim.url + "/api2/json",
        token_id=pvesim.token_id,
        token_secret=pvesim.token_secret,
        tls_ca_pem=pvesim.ca_path.read_text(),
    )
    infra.inventory_sync(cluster=cluster)
    ip_pools(dc)
    gpu = FamilyFactory(slug="gpu", name="GPU Cloud")
    vps = FamilyFactory(slug="vps", name="VPS")
    return Fleet(
        cluster=cluster,
        dc=dc,
        gpu_offer=OfferFactory(
            family=gpu, code="GPU-A100", vcpu=8, ram_gb=64, disk_gb=40, gpu_model=a100, gpu_count=1, snapshot_quota=2
        ),
        gpu_offer_big=OfferFactory(
            family=gpu, code="GPU-A100-L", vcpu=16, ram_gb=128, disk_gb=80, gpu_model=a100, gpu_count=1
        ),
        vps_offer=OfferFactory(family=vps, code="VPS-S", vcpu=2, ram_gb=4, disk_gb=20, snapshot_quota=1),
        vps_offer_big=OfferFactory(family=vps, code="VPS-M", vcpu=4, ram_gb=8, disk_gb=40),
        ubuntu24=ubuntu24,
        ubuntu22=ubuntu22,
        sim=pvesim,
    )


ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop"


def create_instance(
    fleet: Fleet, personas: Personas, *, offer=None, image=None, name: str = "web-1", keys=None, project=None
):
    """Place and create an instance of ``personas.org``, as its owner, the way apps.orders does.

    Provisioning runs on commit (eager Celery).
    """
    offer = offer or fleet.gpu_offer
    image = image or (fleet.ubuntu22 if offer.gpu_model_id else fleet.ubuntu24)
    reservation = infra.placement_reserve(offer=offer, datacentre=fleet.dc, image=image, actor=personas.owner)
    return services.instance_create(
        organisation=personas.org,
        project=project or personas.project,
        offer=offer,
        datacentre=fleet.dc,
        image=image,
        name=name,
        ssh_keys=keys if keys is not None else [ED25519],
        user_data="",
        reservation=reservation,
        price_hourly=offer.price_hourly,
        price_monthly=offer.price_monthly,
        actor=personas.owner,
    )


def sim_vms(sim) -> dict[int, Any]:
    """Non-template VMs in the simulator."""
    with sim.cluster.lock:
        return {vmid: vm for vmid, vm in sim.cluster.vms.items() if not vm.template}
