"""Races on floating IPs against real PostgreSQL: exactly one outcome each, nothing half-done."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from apps.core.errors import ApplicationError
from apps.floating_ips import services
from apps.floating_ips.choices import FloatingIpStatus
from apps.floating_ips.models import FloatingIp
from apps.infrastructure.models import IpAllocation
from apps.instances.models import Action
from tests.floating_ips.conftest import create, server_row

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` at once in threads (one connection each); their results or the ApplicationError raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except ApplicationError as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_assigns_of_one_floating_ip_give_exactly_one_winner(fip_env, monkeypatch):
    monkeypatch.setattr("apps.instances.services.actions.task_enqueue", lambda *args: None)
    fip, _ = create(fip_env)
    one = server_row(fip_env, name="one", vmid=100_601)
    two = server_row(fip_env, name="two", vmid=100_602)
    owner = fip_env.personas.owner
    results = _race(
        lambda: services.floating_ip_assign(actor=owner, floating_ip=fip, server=one),
        lambda: services.floating_ip_assign(actor=owner, floating_ip=fip, server=two),
    )
    won = [r for r in results if not isinstance(r, ApplicationError)]
    lost = [r for r in results if isinstance(r, ApplicationError)]
    assert len(won) == 1 and len(lost) == 1 and lost[0].code == "floating_ip_busy"
    fip.refresh_from_db()
    assert fip.status == FloatingIpStatus.ASSIGNING
    assert fip.server_id == won[0].params["server_id"]
    assert Action.objects.filter(resource_type="floating_ip", resource_id=fip.public_id).count() == 1


def test_concurrent_creates_never_share_an_address(fip_env, monkeypatch, settings):
    settings.FLOATING_IPS_DEFAULT_QUOTAS = {"max_floating_ips": 50}
    results = _race(*(lambda n=n: create(fip_env, name=f"vip-{n}") for n in range(6)))
    assert not [r for r in results if isinstance(r, ApplicationError)], results
    addresses = list(FloatingIp.objects.values_list("address", flat=True))
    assert len(addresses) == 6 == len(set(addresses))
    assert IpAllocation.objects.filter(address__in=addresses, reservation__isnull=True).count() == 6


def test_concurrent_creates_stop_at_the_quota(fip_env, settings):
    settings.FLOATING_IPS_DEFAULT_QUOTAS = {"max_floating_ips": 2}
    results = _race(*(lambda n=n: create(fip_env, name=f"vip-{n}") for n in range(4)))
    lost = [r for r in results if isinstance(r, ApplicationError)]
    assert len(lost) == 2 and {r.code for r in lost} == {"quota_exceeded"}
    assert FloatingIp.objects.count() == 2
