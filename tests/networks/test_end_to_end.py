"""Private networks end to end against the Proxmox simulator (docs/dev/proxmox-behaviour.md#sdn).

Create a network (zone, VNet with its VXLAN tag, subnet, applied), attach a
running server (netN on the VNet, ipconfigN with the platform's address, a
reboot needed), detach it, attach again, delete the server (the network stays,
the address is free and the history says why), delete the network (VNet gone).
"""

from __future__ import annotations

import pytest

from apps.instances import services as instance_services
from apps.instances.models import Action
from apps.instances.services.access import instance_driver
from apps.networks import services
from apps.networks.models import Attachment, Network, NetworkZone
from tests.instances.conftest import _fast_driver, create_instance, fleet  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _ok(action: Action) -> None:
    action.refresh_from_db()
    assert action.status == "success", (action.error_code, action.error_detail)


def test_a_network_on_sdn_attach_detach_and_server_deletion(fleet, personas, django_capture_on_commit_callbacks):  # noqa: F811
    cap = django_capture_on_commit_callbacks
    NetworkZone.objects.create(
        cluster=fleet.cluster, name="vmcnets", zone_type="vxlan", options={"peers": "10.255.0.1"}
    )
    with cap(execute=True):
        server, _action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-1")
    server.refresh_from_db()
    assert server.status == "running"
    owner = personas.owner
    with cap(execute=True):
        network, action = services.network_create(
            actor=owner,
            organisation=personas.org,
            project=personas.project,
            name="backend",
            datacentre=fleet.dc,
            ip_range="10.20.0.0/16",
            subnets=["10.20.1.0/24"],
        )
    _ok(action)
    network.refresh_from_db()
    assert network.status == "available"
    driver = instance_driver(fleet.cluster)
    vnets = {row["vnet"]: row for row in driver.request("GET", "cluster/sdn/vnets", {"running": 1})}
    assert vnets[network.vnet]["zone"] == "vmcnets" and int(vnets[network.vnet]["tag"]) == network.tag
    assert driver.sdn_subnets(network.vnet) == ["10.20.1.0/24"]
    assert driver.sdn_vnet_ready(server.node_name, network.vnet)

    with cap(execute=True):
        action = services.network_attach(actor=owner, network=network, server=server)
    _ok(action)
    attachment = Attachment.objects.get(network=network, instance=server)
    assert (attachment.status, attachment.address, attachment.nic_index) == ("attached", "10.20.1.2", 1)
    assert attachment.needs_reboot is True  # running: the guest configures the card at its next boot
    options = driver.config(server.node_name, server.vmid).options
    assert f"bridge={network.vnet}" in options["net1"] and "firewall=1" in options["net1"]
    assert options["ipconfig1"] == "ip=10.20.1.2/24"
    assert "bridge=vmbr0" in options["net0"]  # the public card is untouched

    with cap(execute=True):
        instance_services.instance_reboot(instance=server, actor=owner)
    server.refresh_from_db()
    attachment.refresh_from_db()
    assert server.status == "running" and attachment.needs_reboot is False  # booted with its cloud-init drive

    # A rebuild recreates the VM: the platform adds the private card again, same slot and address.
    with cap(execute=True):
        instance_services.instance_rebuild(instance=server, image=fleet.ubuntu24, actor=owner)
    server.refresh_from_db()
    assert server.status == "running"
    options = driver.config(server.node_name, server.vmid).options
    assert f"bridge={network.vnet}" in options["net1"] and options["ipconfig1"] == "ip=10.20.1.2/24"
    restored = Action.objects.filter(resource_id=network.public_id, type="attach", params__restore=True).get()
    _ok(restored)

    with cap(execute=True):
        action = services.network_detach(actor=owner, network=network, server=server)
    _ok(action)
    options = driver.config(server.node_name, server.vmid).options
    assert "net1" not in options and "ipconfig1" not in options
    assert Attachment.objects.get(pk=attachment.pk).status == "detached"

    with cap(execute=True):
        action = services.network_attach(actor=owner, network=network, server=server, ip="10.20.1.2")
    _ok(action)
    with cap(execute=True):
        instance_services.instance_delete(instance=server, actor=owner)
    server.refresh_from_db()
    assert server.status == "deleted"
    network.refresh_from_db()
    assert network.status == "available"  # the server's deletion leaves its networks
    live = Attachment.objects.filter(network=network).exclude(status="detached")
    assert not live.exists()
    assert Attachment.objects.filter(network=network, detached_reason="server deleted").count() == 1

    with cap(execute=True):
        action = services.network_delete(actor=owner, network=network)
    _ok(action)
    assert Network.objects.get(pk=network.pk).status == "deleted"
    assert network.vnet not in driver.sdn_vnets()
    running = {row["vnet"] for row in driver.request("GET", "cluster/sdn/vnets", {"running": 1})}
    assert network.vnet not in running
