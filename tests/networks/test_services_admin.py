"""Services around the task (claim, failure), the deleted-server receiver, portal pages and the back office."""

from __future__ import annotations

from apps.instances.choices import ActionStatus
from apps.instances.signals import instance_status_changed
from apps.networks import services
from apps.networks.admin import NetworkZoneForm
from apps.networks.models import Attachment
from tests.networks.conftest import network_row, server_row


def test_a_duplicated_message_never_runs_an_action_twice(networks_env):
    network = network_row(networks_env)
    action = services.network_attach(
        actor=networks_env.personas.owner, network=network, server=server_row(networks_env)
    )
    first = services.network_action_claim(action_id=action.pk, task_id="task-1")
    assert first is not None and first.status == ActionStatus.RUNNING
    assert services.network_action_claim(action_id=action.pk, task_id="task-2") is None
    assert services.network_action_claim(action_id=action.pk, task_id="task-1") is not None


def test_a_failed_attach_frees_the_address_and_the_card(networks_env):
    network = network_row(networks_env)
    server = server_row(networks_env)
    action = services.network_attach(actor=networks_env.personas.owner, network=network, server=server, ip="10.0.0.9")
    services.network_action_fail(action=action, code="proxmox_error", message="failed", detail="boom")
    attachment = Attachment.objects.get()
    assert (attachment.status, attachment.detached_reason) == ("detached", "attach failed")
    again = services.network_attach(actor=networks_env.personas.owner, network=network, server=server, ip="10.0.0.9")
    assert again.type == "attach"


def test_a_deleted_server_leaves_its_networks_and_frees_its_addresses(networks_env):
    one, two = network_row(networks_env, name="one"), network_row(networks_env, name="two", ip_range="10.1.0.0/24")
    server = server_row(networks_env)
    for network in (one, two):
        services.network_attach(actor=networks_env.personas.owner, network=network, server=server)
    Attachment.objects.update(status="attached", needs_reboot=True)
    instance_status_changed.send(sender=None, instance_id=server.pk, before="running", after="stopped")
    assert Attachment.objects.filter(needs_reboot=True).count() == 2
    instance_status_changed.send(sender=None, instance_id=server.pk, before="stopped", after="running")
    assert Attachment.objects.filter(needs_reboot=True).count() == 0
    instance_status_changed.send(sender=None, instance_id=server.pk, before="deleting", after="deleted")
    rows = list(Attachment.objects.values_list("status", "detached_reason", "server_name"))
    assert rows == [("detached", "server deleted", "web-1")] * 2
    one.refresh_from_db()
    assert one.status == "available"
    other = server_row(networks_env, name="web-2", vmid=100_501)
    services.network_attach(actor=networks_env.personas.owner, network=one, server=other, ip="10.0.0.2")


def test_portal_pages(networks_env, client):
    network = network_row(networks_env)
    server = server_row(networks_env)
    client.force_login(networks_env.personas.member)
    assert client.get("/networks/").status_code == 200
    page = client.get(f"/networks/{network.public_id}/")
    assert page.status_code == 200 and b"attach-form" in page.content
    tab = client.get(f"/servers/{server.public_id}/networks/")
    assert tab.status_code == 200 and b"join-form" in tab.content
    joined = client.post(f"/servers/{server.public_id}/networks/join/", {"network": str(network.public_id), "ip": ""})
    assert joined.status_code == 302 and "?action=" in joined["Location"]
    assert Attachment.objects.get().address == "10.0.0.2"
    bad = client.post(
        "/networks/",
        {"name": "x", "project": networks_env.personas.project.pk, "datacentre": "PAR-1", "ip_range": "8.8.8.0/24"},
    )
    assert bad.status_code == 200 and b"RFC 1918" in bad.content
    client.force_login(networks_env.personas.viewer)
    assert b"network-form" not in client.get("/networks/").content
    assert client.post(f"/networks/{network.public_id}/delete/").status_code == 403
    client.force_login(networks_env.personas.outsider)
    assert client.get(f"/networks/{network.public_id}/").status_code == 404


def test_back_office_pages_and_zone_validation(networks_env, client):
    network = network_row(networks_env)
    client.force_login(networks_env.personas.staff)
    for url in (
        "/admin/networks/network/",
        f"/admin/networks/network/{network.pk}/change/",
        f"/admin/networks/network/?cluster__id__exact={networks_env.zone.cluster_id}",
        "/admin/networks/networkzone/",
        f"/admin/networks/networkzone/{networks_env.zone.pk}/change/",
        "/admin/networks/networkquota/add/",
    ):
        assert client.get(url).status_code == 200, url
    form = NetworkZoneForm(
        data={
            "cluster": networks_env.zone.cluster_id,
            "name": "vlans",
            "zone_type": "vlan",
            "options": "{}",
            "tag_min": 10,
            "tag_max": 5000,
            "enabled": True,
        },
        instance=networks_env.zone,
    )
    assert not form.is_valid() and "4094" in str(form.errors)
    form = NetworkZoneForm(
        data={
            "cluster": networks_env.zone.cluster_id,
            "name": "Bad-Name",
            "zone_type": "vlan",
            "options": "{}",
            "tag_min": 10,
            "tag_max": 20,
            "enabled": True,
        },
        instance=networks_env.zone,
    )
    assert not form.is_valid() and "name" in form.errors


def test_private_addresses_of_many_servers_in_one_query(networks_env, django_assert_num_queries):
    from apps.networks.selectors import private_addresses_by_server

    network = network_row(networks_env)
    servers = [server_row(networks_env, name=f"s{i}", vmid=100_800 + i) for i in range(3)]
    for server in servers:
        services.network_attach(actor=networks_env.personas.owner, network=network, server=server)
    with django_assert_num_queries(1):
        found = private_addresses_by_server(instance_ids=[s.pk for s in servers])
    assert found[servers[2].pk] == [("backend", "10.0.0.4")]
