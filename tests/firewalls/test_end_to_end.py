"""Firewalls end to end against the Proxmox simulator (docs/dev/proxmox-behaviour.md#firewall).

A firewall is one cluster security group; each server using it has a ``group`` rule, its VM firewall
on with inbound policy DROP, and ``firewall=1`` on its NICs. Rule changes, selectors, removal, the
deletion of a server and of the firewall, drift and the cluster switch are followed on the simulator.
"""

from __future__ import annotations

import pytest

from apps.firewalls import services
from apps.firewalls.choices import FirewallStatus, MemberStatus
from apps.firewalls.models import ClusterFirewallCheck, Firewall, FirewallServer, ServerFirewall
from apps.instances import services as instance_services
from apps.instances.choices import ActionResource
from apps.instances.models import Action
from apps.instances.services.access import instance_driver
from tests.firewalls.conftest import SSH, WEB, group_rules, make_firewall, running_server, vm_state
from tests.instances.conftest import _fast_driver, fleet  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _actions(firewall):
    return list(Action.objects.filter(resource_type=ActionResource.FIREWALL, resource_id=firewall.public_id))


def test_apply_change_rules_remove_and_delete(fleet, personas, django_capture_on_commit_callbacks):  # noqa: F811
    cap = django_capture_on_commit_callbacks
    web1 = running_server(fleet, personas, cap, "web-1")
    web2 = running_server(fleet, personas, cap, "web-2")
    assert vm_state(fleet, web1).enable is False  # a server without firewall is open, as before
    firewall, actions = make_firewall(personas, cap, "web", [WEB], servers=[web1, web2])
    assert [a.type for a in actions] == ["apply"]
    assert all(a.status == "success" for a in _actions(firewall)), [a.error_detail for a in _actions(firewall)]
    rows = group_rules(fleet, firewall.group)
    assert [(r["type"], r["action"], r["proto"], r["dport"], r["source"]) for r in rows] == [
        ("in", "ACCEPT", "tcp", "80", "0.0.0.0/0"),
        ("in", "ACCEPT", "tcp", "80", "::/0"),
    ]
    for server in (web1, web2):
        state = vm_state(fleet, server)
        assert state.groups == (firewall.group,) and state.enable and state.policy_in == "DROP"
        assert state.policy_out == "ACCEPT"
        config = instance_driver(fleet.cluster).config(server.node_name, server.vmid).options
        assert "firewall=1" in str(config["net0"])
    firewall.refresh_from_db()
    assert firewall.applied_generation == firewall.generation
    assert set(FirewallServer.objects.values_list("status", flat=True)) == {MemberStatus.APPLIED}

    # A rule change: the group is rewritten, and an outbound rule closes outbound traffic on every VM.
    out = {"direction": "out", "protocol": "udp", "port": "53", "destination_ips": ["192.0.2.53"]}
    with cap(execute=True):
        action = services.firewall_set_rules(firewall=firewall, actor=personas.owner, rules_data=[SSH, out])
    action.refresh_from_db()
    assert action.status == "success", action.error_detail
    assert [(r["type"], r["dport"]) for r in group_rules(fleet, firewall.group)] == [("in", "22"), ("out", "53")]
    assert vm_state(fleet, web1).policy_out == "DROP"

    # Removing it from one server opens that server again; the other keeps it.
    with cap(execute=True):
        services.firewall_remove_from(firewall=firewall, actor=personas.owner, servers=[web1])
    one = vm_state(fleet, web1)
    assert one.groups == () and one.policy_in == "ACCEPT" and one.policy_out == "ACCEPT"
    assert vm_state(fleet, web2).groups == (firewall.group,)
    assert list(FirewallServer.objects.values_list("instance_id", flat=True)) == [web2.pk]

    # Deleting the firewall frees web2 and removes the security group.
    with cap(execute=True):
        services.firewall_delete(firewall=firewall, actor=personas.owner)
    firewall.refresh_from_db()
    assert firewall.status == FirewallStatus.DELETED
    assert vm_state(fleet, web2).groups == () and vm_state(fleet, web2).policy_in == "ACCEPT"
    groups = instance_driver(fleet.cluster).request("GET", "cluster/firewall/groups")
    assert firewall.group not in {g["group"] for g in groups}


def test_label_selector_covers_future_servers_and_two_firewalls_stack(
    fleet,  # noqa: F811
    personas,
    django_capture_on_commit_callbacks,
):
    cap = django_capture_on_commit_callbacks
    first = running_server(fleet, personas, cap, "api-1")
    first.labels = {"role": "api"}
    first.save(update_fields=["labels"])
    fw_api, _ = make_firewall(personas, cap, "api", [WEB], label_selectors=["role=api"])
    fw_ssh, _ = make_firewall(personas, cap, "ssh", [SSH], servers=[first])
    assert vm_state(fleet, first).groups == (fw_api.group, fw_ssh.group)
    # A server created later with a matching label gets the firewall when it starts running.
    from tests.instances.conftest import create_instance

    with cap(execute=True):
        later, _ = create_instance(fleet, personas, offer=fleet.vps_offer, name="api-2")
        type(later).objects.filter(pk=later.pk).update(labels={"role": "api"})
    later.refresh_from_db()
    # The label was set after creation here, so the periodic reconciliation catches it.
    if not FirewallServer.objects.filter(instance=later).exists():
        with cap(execute=True):
            services.firewalls_reconcile_selectors()
    assert vm_state(fleet, later).groups == (fw_api.group,)
    member = FirewallServer.objects.get(instance=later)
    assert member.selected and not member.direct and member.status == MemberStatus.APPLIED


def test_a_deleted_server_leaves_its_firewalls(fleet, personas, django_capture_on_commit_callbacks):  # noqa: F811
    cap = django_capture_on_commit_callbacks
    server = running_server(fleet, personas, cap, "gone")
    firewall, _ = make_firewall(personas, cap, "fw", [WEB], servers=[server])
    assert FirewallServer.objects.filter(firewall=firewall).count() == 1
    with cap(execute=True):
        instance_services.instance_delete(instance=server, actor=personas.owner)
    server.refresh_from_db()
    assert server.status == "deleted"
    assert FirewallServer.objects.filter(firewall=firewall).count() == 0
    assert not ServerFirewall.objects.filter(instance=server).exists()
    assert Firewall.objects.get(pk=firewall.pk).status == FirewallStatus.ACTIVE


def test_drift_is_flagged_and_the_cluster_switch_checked(fleet, personas, django_capture_on_commit_callbacks):  # noqa: F811
    cap = django_capture_on_commit_callbacks
    server = running_server(fleet, personas, cap, "drifty")
    firewall, _ = make_firewall(personas, cap, "fw", [WEB], servers=[server])
    driver = instance_driver(fleet.cluster)
    summary = services.firewalls_reconcile()
    assert summary["drifted"] == [] and summary["clusters_off"] == [fleet.cluster.name]
    assert ClusterFirewallCheck.objects.get(cluster=fleet.cluster).enabled is False
    # Someone removes the group rule and opens the VM by hand.
    driver.vm_firewall_group_rules_set(server.node_name, server.vmid, groups=[])
    driver.vm_firewall_options_set(server.node_name, server.vmid, enable=True, policy_in="ACCEPT")
    driver.request("PUT", "cluster/firewall/options", {"enable": 1})
    summary = services.firewalls_reconcile()
    assert summary["drifted"] == [server.pk] and summary["clusters_off"] == []
    state = ServerFirewall.objects.get(instance=server)
    assert state.drift and "groups" in state.drift_detail and "policy_in" in state.drift_detail
    # Staff re-apply: the VM is right again and the flag clears.
    with cap(execute=True):
        services.firewall_reapply(firewall=firewall, actor=personas.staff)
    assert vm_state(fleet, server).groups == (firewall.group,)
    assert services.firewalls_reconcile()["drifted"] == []
    assert not ServerFirewall.objects.get(instance=server).drift


def test_an_inventory_sync_checks_the_cluster_firewall_switch(fleet):  # noqa: F811
    from apps.infrastructure.services import inventory_sync

    ClusterFirewallCheck.objects.filter(cluster=fleet.cluster).delete()  # the fleet's own sync made one
    inventory_sync(cluster=fleet.cluster)
    assert ClusterFirewallCheck.objects.get(cluster=fleet.cluster).enabled is False
    instance_driver(fleet.cluster).request("PUT", "cluster/firewall/options", {"enable": 1})
    inventory_sync(cluster=fleet.cluster)
    assert ClusterFirewallCheck.objects.get(cluster=fleet.cluster).enabled is True


def test_a_label_edit_is_matched_at_once_without_the_reconciliation(
    fleet,  # noqa: F811
    personas,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    cap = django_capture_on_commit_callbacks
    server = running_server(fleet, personas, cap, "api-1")
    fw_api, _ = make_firewall(personas, cap, "api", [WEB], label_selectors=["role=api"])
    assert vm_state(fleet, server).groups == ()

    def sweep(*args, **kwargs):
        raise AssertionError("the periodic reconciliation ran: the label edit should have been an event")

    monkeypatch.setattr(services, "firewalls_reconcile_selectors", sweep)  # what the beat task calls
    with cap(execute=True):
        instance_services.instance_update(instance=server, actor=personas.owner, labels={"role": "api"})
    assert vm_state(fleet, server).groups == (fw_api.group,)
    member = FirewallServer.objects.get(instance=server)
    assert member.selected and member.status == MemberStatus.APPLIED
    # The label goes: the server leaves the firewall at once, and its VM is open again.
    with cap(execute=True):
        instance_services.instance_update(instance=server, actor=personas.owner, labels={})
    assert vm_state(fleet, server).groups == () and not FirewallServer.objects.filter(instance=server).exists()
