"""A server in the API shows its volumes, private networks, firewalls and floating IPs, at a constant query cost."""

from __future__ import annotations

import re
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


def test_every_field_on_many_servers_costs_one_query_whose_text_does_not_depend_on_the_page(volumes_env):  # noqa: F811
    """All four fields filled on each server of the page (two values where a server has two), in a stable
    order; a page of 1 and a page of 6 servers run the same query text, only the keys' array differs."""
    from apps.firewalls.models import Firewall, FirewallServer
    from apps.floating_ips.models import FloatingIp
    from apps.infrastructure.models import IpPool
    from apps.networks.models import Attachment, Network, NetworkZone, Subnet
    from tests.floating_ips.conftest import offer_ensure

    env = volumes_env
    org, project, dc = env.personas.org, env.personas.project, env.shop.dc
    zone = NetworkZone.objects.create(cluster=env.shop.fleet["cluster"], name="vmcnets", zone_type="vxlan")
    network = Network.objects.create(
        organisation=org, project=project, name="backend", datacentre=dc, ip_range="10.9.0.0/24",
        status="available", cluster=env.shop.fleet["cluster"], zone=zone, vnet="vnet1", tag=1001,
    )  # fmt: skip
    subnet = Subnet.objects.create(network=network, cidr="10.9.0.0/24")
    web = Firewall.objects.create(organisation=org, project=project, name="web")
    ssh = Firewall.objects.create(organisation=org, project=project, name="ssh")
    pool = IpPool.objects.filter(datacentre=dc, family=4).first()
    client = APIClient()
    client.force_authenticate(env.personas.member)

    def server_with_everything(n: int):
        server = server_row(env, name=f"web-{n}", vmid=100_600 + n)
        _volume(env, server, f"data-{n}")
        _volume(env, server, f"logs-{n}")
        Attachment.objects.create(
            network=network, subnet=subnet, instance=server, address=f"10.9.0.{n + 10}", nic_index=1, status="attached"
        )
        Attachment.objects.create(  # a detached card is history, not shown
            network=network, subnet=subnet, instance=server, address=f"10.9.0.{n + 100}", nic_index=2,
            status="detached",
        )  # fmt: skip
        FirewallServer.objects.create(firewall=web, instance=server, direct=True, status="applied")
        FirewallServer.objects.create(firewall=ssh, instance=server, direct=True, status="removing")  # leaving
        FloatingIp.objects.create(
            organisation=org, project=project, name=f"vip-{n}", datacentre=dc, address=f"203.0.113.{n + 10}",
            pool=pool, offer=offer_ensure(), server=server, status="assigned",
            price_hourly=Decimal("0.004110"), price_monthly=Decimal("3.00"),
        )  # fmt: skip
        return server

    server_with_everything(0)
    client.get("/api/v1/instances/")  # warm the per-process caches
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/api/v1/instances/").json()["results"]) == 1
    servers = [server_with_everything(n) for n in range(1, 6)]
    with CaptureQueriesContext(connection) as six:
        results = client.get("/api/v1/instances/").json()["results"]
    assert len(six) == len(one) and len(results) == 6
    extras_sql = [q["sql"] for q in (*one.captured_queries, *six.captured_queries) if "extra_field" in q["sql"]]
    assert len(extras_sql) == 2
    assert re.sub(r"'\{[0-9,]+\}'", "{keys}", extras_sql[0]) == re.sub(r"'\{[0-9,]+\}'", "{keys}", extras_sql[1])
    by_id = {r["id"]: r for r in results}
    for n, server in enumerate(servers, start=1):
        row = by_id[str(server.public_id)]
        volumes = sorted(str(v) for v in Volume.objects.filter(server=server).values_list("public_id", flat=True))
        assert row["volumes"] == volumes and len(volumes) == 2
        assert row["private_networks"] == [{"network_id": str(network.public_id), "ip": f"10.9.0.{n + 10}"}]
        assert row["firewalls"] == [str(web.public_id)]
        fip = FloatingIp.objects.get(server=server)
        assert row["floating_ips"] == [{"id": str(fip.public_id), "address": f"203.0.113.{n + 10}"}]
        assert client.get(f"/api/v1/instances/{server.public_id}/").json() == row
