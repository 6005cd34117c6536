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
