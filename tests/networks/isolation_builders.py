"""Builders for the tenant-isolation walk (tests/isolation.py merges them): ``network_id`` of an organisation."""

from __future__ import annotations

from typing import Any

from apps.teams.models import Organisation


def _network(org: Organisation, personas: Any) -> Any:
    """An available network row of the organisation (no Proxmox needed: denials happen before any call)."""
    from apps.infrastructure.models import Cluster
    from apps.networks.models import Network, NetworkZone
    from tests.infrastructure.factories import ClusterFactory, DatacentreFactory

    existing = Network.objects.filter(organisation=org).first()
    if existing is not None:
        return existing.public_id
    dc = DatacentreFactory(code="ISO-1")
    cluster = Cluster.objects.filter(datacentre=dc).first() or ClusterFactory(datacentre=dc, name="iso-net")
    zone = NetworkZone.objects.get_or_create(cluster=cluster, defaults={"name": "isonet", "zone_type": "vxlan"})[0]
    tag = 1000 + Network.objects.filter(cluster=cluster).count()
    return Network.objects.create(
        organisation=org,
        project=org.projects.get(is_default=True),
        name=f"net-{org.slug}",
        datacentre=dc,
        ip_range="10.0.0.0/24",
        status="available",
        cluster=cluster,
        zone=zone,
        tag=tag,
        vnet=f"n{tag}",
    ).public_id


def _subnet(org: Organisation, personas: Any) -> Any:
    """A subnet of the organisation's network (the walk pairs it with that network's id)."""
    from apps.networks.models import Network, Subnet

    network = Network.objects.get(public_id=_network(org, personas))
    return Subnet.objects.get_or_create(network=network, cidr="10.0.0.0/28")[0].public_id


OBJECT_BUILDERS = {"network_id": _network, "subnet_id": _subnet}
WRITE_BODIES = {
    "api:network-list": {
        "organisation_id": "{org_id}",
        "name": "probe",
        "datacentre": "ISO-1",
        "ip_range": "10.1.0.0/16",
    },
    "api:network-attach": {"server_id": "{instance_id}"},
    "api:network-detach": {"server_id": "{instance_id}"},
    "api:network-subnet-list": {"cidr": "10.0.0.0/28"},
}
