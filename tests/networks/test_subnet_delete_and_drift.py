"""Deleting a subnet (refused while an address in it is in use) and the drift check of servers' private cards.

API and portal rows need no Proxmox (the task's on-commit callback is not run); the end-to-end parts run the
tasks against the simulator: the subnet leaves the VNet on Proxmox, and a card changed behind the platform's
back is flagged after an inventory sync, then written again by the staff repair.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.infrastructure.signals import cluster_synced
from apps.instances.models import Action
from apps.instances.services.access import instance_driver
from apps.networks import services
from apps.networks.models import Attachment, NetworkZone, Subnet
from tests.instances.conftest import _fast_driver, create_instance, fleet  # noqa: F401 - fixtures
from tests.networks.conftest import network_row, server_row

pytestmark = pytest.mark.django_db
URL = "/api/v1/networks/"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _ok(action: Action) -> None:
    action.refresh_from_db()
    assert action.status == "success", (action.error_code, action.error_detail)


# ----------------------------------------------------------------------------------------------- subnet delete
def test_a_subnet_in_use_is_refused_with_409_and_a_free_one_is_deleted_with_202(networks_env):
    env = networks_env
    network = network_row(env, ip_range="10.0.0.0/16", subnets=["10.0.1.0/24", "10.0.2.0/24"])
    used, free = network.subnets.order_by("cidr")
    server = server_row(env)
    services.network_attach(actor=env.personas.owner, network=network, server=server, ip="10.0.1.10")
    Action.objects.filter(resource_id=network.public_id, status="pending").update(status="success")
    Attachment.objects.update(status="attached")
    owner = _client(env.personas.owner)

    refused = owner.delete(f"{URL}{network.public_id}/subnets/{used.public_id}/")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "subnet_in_use", refused.json()
    assert Subnet.objects.filter(pk=used.pk).exists()

    viewer = _client(env.personas.viewer)
    assert viewer.delete(f"{URL}{network.public_id}/subnets/{free.public_id}/").status_code == 403
    outsider = _client(env.personas.outsider)
    assert outsider.delete(f"{URL}{network.public_id}/subnets/{free.public_id}/").status_code == 404
    # A subnet of another network is not found under this one.
    other = network_row(env, name="other", ip_range="10.9.0.0/16", subnets=["10.9.1.0/24"])
    stranger = other.subnets.get()
    assert owner.delete(f"{URL}{network.public_id}/subnets/{stranger.public_id}/").status_code == 404

    accepted = owner.delete(f"{URL}{network.public_id}/subnets/{free.public_id}/")
    assert accepted.status_code == 202, accepted.json()
    assert (accepted.json()["type"], accepted.json()["resource"]["id"]) == ("apply", str(network.public_id))
    assert list(network.subnets.values_list("cidr", flat=True)) == ["10.0.1.0/24"]
    # One operation at a time: the apply is running.
    busy = owner.delete(f"{URL}{network.public_id}/subnets/{used.public_id}/")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "network_busy"


def test_the_detached_cards_of_a_deleted_subnet_stay_in_the_history(networks_env):
    env = networks_env
    network = network_row(env, ip_range="10.0.0.0/16", subnets=["10.0.1.0/24"])
    subnet = network.subnets.get()
    Attachment.objects.create(
        network=network, subnet=subnet, server_name="old", address="10.0.1.5", nic_index=1, status="detached"
    )
    services.subnet_delete(actor=env.personas.owner, network=network, subnet=subnet)
    row = Attachment.objects.get()
    assert (row.server_name, row.subnet_id, row.status) == ("old", None, "detached")


def test_portal_shows_addresses_in_use_and_deletes_a_free_subnet(networks_env, client):
    env = networks_env
    network = network_row(env, ip_range="10.0.0.0/16", subnets=["10.0.1.0/24", "10.0.2.0/24"])
    used, free = network.subnets.order_by("cidr")
    Attachment.objects.create(
        network=network, subnet=used, instance=server_row(env), server_name="web-1", address="10.0.1.2", nic_index=1
    )
    client.force_login(env.personas.owner)
    page = client.get(f"/networks/{network.public_id}/").content.decode()
    row_used = page.split('data-subnet="10.0.1.0/24"')[1].split("</tr>")[0]
    row_free = page.split('data-subnet="10.0.2.0/24"')[1].split("</tr>")[0]
    assert "<td>1</td>" in row_used and "disabled" in row_used
    assert "<td>0</td>" in row_free and "disabled" not in row_free

    response = client.post(f"/networks/{network.public_id}/subnets/{used.public_id}/delete/", follow=True)
    assert "detach them first" in response.content.decode()
    assert Subnet.objects.filter(pk=used.pk).exists()
    client.post(f"/networks/{network.public_id}/subnets/{free.public_id}/delete/")
    assert not Subnet.objects.filter(pk=free.pk).exists()
    client.force_login(env.personas.viewer)
    other = network.subnets.get()
    assert client.post(f"/networks/{network.public_id}/subnets/{other.public_id}/delete/").status_code == 403


# ----------------------------------------------------------------------------------------- against Proxmox
def test_subnet_delete_removes_it_from_the_vnet_and_card_drift_is_flagged_and_repaired(
    fleet,  # noqa: F811
    personas,
    django_capture_on_commit_callbacks,
):
    cap = django_capture_on_commit_callbacks
    NetworkZone.objects.create(
        cluster=fleet.cluster, name="vmcnets", zone_type="vxlan", options={"peers": "10.255.0.1"}
    )
    owner = personas.owner
    with cap(execute=True):
        server, _a = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-1")
    server.refresh_from_db()
    with cap(execute=True):
        network, action = services.network_create(
            actor=owner,
            organisation=personas.org,
            project=personas.project,
            name="backend",
            datacentre=fleet.dc,
            ip_range="10.20.0.0/16",
            subnets=["10.20.1.0/24", "10.20.2.0/24"],
        )
    _ok(action)
    driver = instance_driver(fleet.cluster)
    assert sorted(driver.sdn_subnets(network.vnet)) == ["10.20.1.0/24", "10.20.2.0/24"]
    with cap(execute=True):
        attach = services.network_attach(actor=owner, network=network, server=server)
    _ok(attach)

    spare = network.subnets.get(cidr="10.20.2.0/24")
    with cap(execute=True):
        removal = services.subnet_delete(actor=owner, network=network, subnet=spare)
    _ok(removal)
    assert driver.sdn_subnets(network.vnet) == ["10.20.1.0/24"]  # applied: gone from the running SDN config

    # In step: the check flags nothing.
    cluster_synced.send(sender=None, cluster=fleet.cluster, driver=driver)
    card = Attachment.objects.get(network=network, instance=server)
    assert card.drift is False and card.checked_at is not None

    # Someone moves the card to another bridge and drops its address by hand in Proxmox.
    node, vmid = server.node_name, server.vmid
    net1 = driver.config(node, vmid).options["net1"]
    driver.request("PUT", f"nodes/{node}/qemu/{vmid}/config", {"net1": net1.replace(network.vnet, "vmbr0")})
    driver.vm_ipconfig_remove(node, vmid, index=1)
    cluster_synced.send(sender=None, cluster=fleet.cluster, driver=driver)
    card.refresh_from_db()
    assert card.drift is True
    assert card.drift_detail == (
        f"net1 on vmbr0, expected {network.vnet}; ipconfig1 gives no address, expected {card.address}"
    )

    with cap(execute=True):
        (repair,) = services.network_cards_repair(actor=None, attachments=[card])
    _ok(repair)
    options = driver.config(node, vmid).options
    assert f"bridge={network.vnet}" in options["net1"] and options["ipconfig1"] == f"ip={card.address}/24"
    cluster_synced.send(sender=None, cluster=fleet.cluster, driver=driver)
    card.refresh_from_db()
    assert (card.drift, card.drift_detail, card.status) == (False, "", "attached")

    # A card removed outright is flagged too.
    driver.vm_nic_remove(node, vmid, index=1)
    cluster_synced.send(sender=None, cluster=fleet.cluster, driver=driver)
    card.refresh_from_db()
    assert card.drift is True and card.drift_detail.startswith(f"net1 missing (expected on {network.vnet})")
