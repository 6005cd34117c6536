"""Fixtures for floating IP tests: the add-on offer, servers in the shop's PAR-1 (IP pool 203.0.113.0/24).

``fip_env`` builds on the shared ``shop`` (PAR-1, its cluster, nodes and IP
pools) and ``personas``. ``server_row`` writes a server row (no Proxmox: the
service tests never run the task, whose on-commit callback is not executed).
The add-on offer is demo data (``offer_ensure``), as in ``make run``: staff create the real one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from apps.catalogue.models import Offer
from tests import factories
from tests.factories import Personas, Shop


@dataclass
class FipEnv:
    shop: Shop
    personas: Personas
    offer: Offer


def offer_ensure() -> Offer:
    """The add-on offer at its placeholder price, as ``make run``'s demo data creates it."""
    from apps.floating_ips.services import floating_ip_offer_placeholder_ensure

    return floating_ip_offer_placeholder_ensure()


@pytest.fixture
def fip_env(shop: Shop, personas: Personas) -> FipEnv:
    return FipEnv(shop=shop, personas=personas, offer=offer_ensure())


def server_row(env: FipEnv, *, name: str = "web-1", status: str = "running", vmid: int = 100_500, **fields: Any):
    """A server row of Acme's default project in PAR-1 on the shop's cluster, with a public IPv4."""
    fields.setdefault("ipv4", f"198.51.100.{vmid % 200 + 1}")
    return factories.server_row(env.personas, env.shop, name=name, status=status, vmid=vmid, **fields)


def create(env: FipEnv, name: str = "vip", **kwargs: Any):
    from apps.floating_ips import services

    kwargs.setdefault("datacentre", env.shop.dc)
    return services.floating_ip_create(
        actor=env.personas.owner, organisation=env.personas.org, project=env.personas.project, name=name, **kwargs
    )
