"""Fixtures for network tests: the SDN zone of the shop's cluster, and server rows.

``networks_env`` builds on the shared ``shop`` (PAR-1, its cluster and nodes)
and gives the cluster a VXLAN zone ``vmcnets`` with tags 1000-4000. ``server_row``
writes a server row (no Proxmox needed: the service tests never run the task,
whose on-commit callback is not executed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from apps.networks.models import NetworkZone
from tests import factories
from tests.factories import Personas, Shop


@dataclass
class NetworksEnv:
    shop: Shop
    personas: Personas
    zone: NetworkZone


@pytest.fixture
def networks_env(shop: Shop, personas: Personas) -> NetworksEnv:
    zone = NetworkZone.objects.create(
        cluster=shop.fleet["cluster"], name="vmcnets", zone_type="vxlan", options={"peers": "10.255.0.1"}
    )
    return NetworksEnv(shop=shop, personas=personas, zone=zone)


def server_row(env: NetworksEnv, *, name: str = "web-1", status: str = "running", vmid: int = 100_500, **fields: Any):
    """A server row of Acme's default project in PAR-1 on the shop's cluster."""
    return factories.server_row(env.personas, env.shop, name=name, status=status, vmid=vmid, **fields)


def network_row(env: NetworksEnv, *, name: str = "backend", ip_range: str = "10.0.0.0/24", **kwargs: Any):
    """A network created through the service and marked available (its create action ended)."""
    from apps.networks import services
    from apps.networks.models import Network

    network, action = services.network_create(
        actor=env.personas.owner,
        organisation=env.personas.org,
        project=env.personas.project,
        name=name,
        datacentre=env.shop.dc,
        ip_range=ip_range,
        **kwargs,
    )
    Network.objects.filter(pk=network.pk).update(status="available")
    type(action).objects.filter(pk=action.pk).update(status="success")
    network.refresh_from_db()
    return network
