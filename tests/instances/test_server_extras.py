"""A server in the API shows its volumes, private networks, firewalls and floating IPs, at a constant query cost."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.volumes.choices import VolumeStatus
from apps.volumes.models import Volume
from tests.volumes.conftest import server_row, volumes_env  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _volume(env, server, name: str) -> Volume:
    return Volume.objects.create(
        organisation=env.personas.org,
        project=env.personas.project,
        name=name,
        tier=env.tier,
        size_gb=10,
        datacentre=env.shop.dc,
        server=server,
        status=VolumeStatus.IN_USE,
        price_hourly=Decimal("0.002055"),
        price_monthly=Decimal("1.50"),
    )


def _list_queries(client: APIClient) -> tuple[int, list[dict]]:
    client.get("/api/v1/instances/")  # warm the per-process caches (content types, rate limits)
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/instances/").json()
    return len(queries), body["results"]


def test_a_server_lists_its_volumes_and_the_list_costs_the_same_queries_for_one_or_many(volumes_env):  # noqa: F811
    client = APIClient()
    client.force_authenticate(volumes_env.personas.member)
    first = server_row(volumes_env, name="web-1", vmid=100_501)
    data = _volume(volumes_env, first, "data")
    one, results = _list_queries(client)
    assert results[0]["volumes"] == [str(data.public_id)]
    assert results[0]["private_networks"] == [] and results[0]["firewalls"] == [] and results[0]["floating_ips"] == []
    for n in range(2, 6):
        server = server_row(volumes_env, name=f"web-{n}", vmid=100_500 + n)
        _volume(volumes_env, server, f"data-{n}")
    five, results = _list_queries(client)
    assert len(results) == 5 and all(len(r["volumes"]) == 1 for r in results)
    assert five == one
    detail = client.get(f"/api/v1/instances/{first.public_id}/").json()
    assert detail["volumes"] == [str(data.public_id)]


def test_a_server_lists_its_floating_ips_and_firewalls_with_plain_addresses(volumes_env):  # noqa: F811
    from apps.firewalls.models import Firewall, FirewallServer
    from apps.floating_ips.models import FloatingIp
    from apps.infrastructure.models import IpPool
    from tests.floating_ips.conftest import offer_ensure

    server = server_row(volumes_env, name="web-1", vmid=100_501)
    fip = FloatingIp.objects.create(
        organisation=volumes_env.personas.org,
        project=volumes_env.personas.project,
        name="vip",
        datacentre=volumes_env.shop.dc,
        address="203.0.113.77",
        pool=IpPool.objects.filter(datacentre=volumes_env.shop.dc, family=4).first(),
        offer=offer_ensure(),
        server=server,
        status="assigned",
        price_hourly=Decimal("0.004110"),
        price_monthly=Decimal("3.00"),
    )
    firewall = Firewall.objects.create(
        organisation=volumes_env.personas.org, project=volumes_env.personas.project, name="web"
    )
    FirewallServer.objects.create(firewall=firewall, instance=server, direct=True, status="applied")
    client = APIClient()
    client.force_authenticate(volumes_env.personas.member)
    body = client.get(f"/api/v1/instances/{server.public_id}/").json()
    assert body["floating_ips"] == [{"id": str(fip.public_id), "address": "203.0.113.77"}]
    assert body["firewalls"] == [str(firewall.public_id)]
    assert client.get("/api/v1/instances/").json()["results"][0]["floating_ips"] == body["floating_ips"]
