"""A live platform that runs load balancers, for the Terraform tests of ``vmcloud_load_balancer``.

Import the fixtures into a test module (``from tests.clients.lbsim import lb_platform, pvesim``):
the simulator's fleet gains a snippets storage (the load balancer VM's first boot reads its
cloud-init user-data there), and the catalogue the VM offer and image of
``LOADBALANCERS_VM_*`` and two load balancer tiers sold in PAR-1, as
``tests/loadbalancers/test_resource.py`` builds them. The guest's ``haproxy -c`` is the real
one: the tests fail with how to install it when it is missing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from apps.catalogue.choices import FamilyKind
from apps.infrastructure import services as infra
from apps.pvesim.fleet import StorageSpec
from apps.pvesim.server import PveSimulator
from tests.infrastructure.factories import FamilyFactory, OfferFactory
from tests.loadbalancers.support import haproxy_binary

TIERS = (("LB-STARTER", 5, ["HTTP", "HTTPS"]), ("LB-BUSINESS", 20, ["HTTP", "HTTPS", "TCP", "UDP"]))


@pytest.fixture
def pvesim(pvesim_fleet, pvesim_ca, tmp_path: Path) -> Iterator[PveSimulator]:
    """The test fleet plus a shared snippets storage (replaces ``tests/pvesim_fixtures.py``'s ``pvesim``)."""
    spec = pvesim_fleet.cluster()
    share = tmp_path / "share"
    nfs = StorageSpec(name="snippets-nfs", type="nfs", content=("snippets",), shared=True, size_gb=10, path=str(share))
    simulator = PveSimulator(
        dataclasses.replace(spec, storages=(*spec.storages, nfs)),
        task_seconds=0.0,
        lock_wait_seconds=0.0,
        ca=pvesim_ca[0],
        ca_path=pvesim_ca[1],
    ).start()
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def lb_platform(platform, tmp_path: Path):
    """``platform`` whose cluster writes snippets, with the load balancers' VM offer and tiers."""
    haproxy_binary()
    fleet = platform.fleet
    infra.cluster_update(cluster=fleet.cluster, snippets_storage="snippets-nfs", snippets_path=str(tmp_path / "share"))
    OfferFactory(family=fleet.vps_offer.family, code="VPS-NANO", vcpu=1, ram_gb=2, disk_gb=20)
    family = FamilyFactory(slug="load-balancer", name="Load balancer", kind=FamilyKind.MANAGED_SERVICE)
    for code, backends, protocols in TIERS:
        OfferFactory(
            family=family,
            code=code,
            vcpu=None,
            ram_gb=None,
            disk_gb=None,
            price_monthly=Decimal("29.00"),
            price_hourly=Decimal("0.0397"),
            lb_backends=backends,
            lb_protocols=protocols,
            lb_requests_per_second=10_000,
            datacentres=[fleet.dc],
        )
    return platform
