"""Races on networks against real PostgreSQL: exactly one outcome each, nothing half-done."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from apps.core.errors import ApplicationError
from apps.instances.models import Action
from apps.networks import services
from apps.networks.models import Attachment, Network
from apps.networks.services import networks as network_services
from tests.networks.conftest import network_row, server_row

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


def _split(results: list[Any]) -> tuple[list[Any], list[ApplicationError]]:
    return (
        [r for r in results if not isinstance(r, ApplicationError)],
        [r for r in results if isinstance(r, ApplicationError)],
    )


def test_two_servers_asking_for_the_last_address_give_one_winner(networks_env, monkeypatch):
    monkeypatch.setattr("apps.instances.services.actions.task_enqueue", lambda *args: None)
    network = network_row(networks_env, ip_range="10.0.0.0/24", subnets=["10.0.0.0/29"])
    owner = networks_env.personas.owner
    for i in range(4):  # 5 addresses for servers: 4 taken, one left
        services.network_attach(
            actor=owner, network=network, server=server_row(networks_env, name=f"s{i}", vmid=100_600 + i)
        )
    one = server_row(networks_env, name="one", vmid=100_701)
    two = server_row(networks_env, name="two", vmid=100_702)
    results = _race(
        lambda: services.network_attach(actor=owner, network=network, server=one),
        lambda: services.network_attach(actor=owner, network=network, server=two),
    )
    won, lost = _split(results)
    assert len(won) == 1 and len(lost) == 1 and lost[0].code == "network_full"
    addresses = list(Attachment.objects.values_list("address", flat=True))
    assert len(addresses) == 5 == len(set(addresses))
    assert Action.objects.filter(type="attach").count() == 5


def test_two_servers_asking_for_one_address_give_one_winner(networks_env, monkeypatch):
    monkeypatch.setattr("apps.instances.services.actions.task_enqueue", lambda *args: None)
    network = network_row(networks_env)
    owner = networks_env.personas.owner
    one = server_row(networks_env, name="one", vmid=100_701)
    two = server_row(networks_env, name="two", vmid=100_702)
    results = _race(
        lambda: services.network_attach(actor=owner, network=network, server=one, ip="10.0.0.50"),
        lambda: services.network_attach(actor=owner, network=network, server=two, ip="10.0.0.50"),
    )
    won, lost = _split(results)
    assert len(won) == 1 and len(lost) == 1 and lost[0].code == "address_in_use"
    assert Attachment.objects.count() == 1


def test_two_creates_drawing_the_same_tag_never_share_a_vnet(networks_env, monkeypatch):
    """Both draw tag 1234 first: the database's unique index makes one insert fail, and it retries with another."""
    monkeypatch.setattr("apps.instances.services.actions.task_enqueue", lambda *args: None)
    draws: dict[int, int] = {}
    real = network_services._free_tag

    def same_first(zone):
        me = threading.get_ident()
        draws[me] = draws.get(me, 0) + 1
        return 1234 if draws[me] == 1 else real(zone)

    monkeypatch.setattr(network_services, "_free_tag", same_first)
    p = networks_env.personas

    def create(actor, org, project):
        return lambda: services.network_create(
            actor=actor,
            organisation=org,
            project=project,
            name="net",
            datacentre=networks_env.shop.dc,
            ip_range="10.0.0.0/16",
        )

    # Two organisations at once: the same draw, yet never the same VNet.
    results = _race(create(p.owner, p.org, p.project), create(p.outsider, p.other_org, p.other_project))
    _won, lost = _split(results)
    assert not lost, lost
    rows = list(Network.objects.values_list("tag", "vnet"))
    assert len(rows) == 2
    assert len({t for t, _v in rows}) == 2 and len({v for _t, v in rows}) == 2
    assert 1234 in {t for t, _v in rows}
    assert Network.objects.values("organisation").distinct().count() == 2
