"""A live platform for the client tools: ``live_server`` with the simulator's fleet, a token and an SDK client.

Provisioning runs for real on the Proxmox simulator through eager Celery when
an order's transaction commits (as in ``tests/orders/test_end_to_end.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from apps.teams.choices import TokenScope
from tests.factories import ApiTokenFactory
from tests.instances.conftest import _fast_driver, fleet  # noqa: F401  (fixtures)


@dataclass
class Platform:
    url: str
    token: str
    fleet: Any
    personas: Any

    def client(self, **options: Any):
        import vmcloud

        return vmcloud.Client(self.url, self.token, **options)


@pytest.fixture
def platform(live_server, settings, fleet, personas) -> Platform:  # noqa: F811
    # The SDK's own retries are tested against a stub server; here the limits must not interfere.
    settings.API_RATE_LIMITS = {"token": (100_000, 60), "user": (100_000, 60), "anonymous": (100_000, 60)}
    # Transactional tests flush data migrations' rows too: the costs need the VAT rates back.
    from apps.billing.services import vat_rates_seed

    vat_rates_seed()
    token = ApiTokenFactory(user=personas.owner, organisation=personas.org, scope=TokenScope.READ_WRITE)
    return Platform(url=live_server.url, token=token.plaintext, fleet=fleet, personas=personas)


@dataclass
class Extras:
    """What volumes, networks and floating IPs need beyond the fleet (issue 13)."""

    tier: Any
    zone: Any
    floating_offer: Any


@pytest.fixture
def extras(platform) -> Extras:
    """A STORAGE-NVME tier on the simulator's ``ceph-nvme``, an SDN zone, the floating IP add-on offer."""
    from apps.infrastructure.models import ClusterStorage
    from apps.networks.models import NetworkZone
    from tests.floating_ips.conftest import offer_ensure
    from tests.volumes.conftest import HOLDER, storage_tier

    world = platform.fleet
    tier = storage_tier(world.dc, iops=50_000)
    ClusterStorage.objects.create(
        cluster=world.cluster, tier=tier, storage="ceph-nvme", node_name="pve1", holder_vmid=HOLDER, capacity_gb=5000
    )
    zone = NetworkZone.objects.create(
        cluster=world.cluster, name="vmcnets", zone_type="vxlan", options={"peers": "10.255.0.1"}
    )
    return Extras(tier=tier, zone=zone, floating_offer=offer_ensure())
