"""Floating IPs end to end against the Proxmox simulator: the address in the VM's anti-spoofing IP set
(docs/dev/proxmox-behaviour.md#ipfilter) and its route in the table backend, through assign, move, unassign,
the server's deletion and release."""

from __future__ import annotations

import pytest

from apps.floating_ips import services
from apps.floating_ips.choices import FloatingIpStatus as S
from apps.floating_ips.models import FloatingIp, FloatingIpRoute
from apps.infrastructure.models import IpAllocation
from apps.instances import services as instance_services
from apps.instances.models import Action
from apps.instances.services.access import instance_driver
from tests.floating_ips.conftest import offer_ensure
from tests.instances.conftest import _fast_driver, create_instance, fleet  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _allowed(server) -> set[str]:
    state = instance_driver(server.cluster).vm_firewall_state(server.node_name, server.vmid)
    return {entry.split("/")[0] for entry in state.ipsets.get("ipfilter-net0", ())}


def _route(fip) -> str | None:
    return FloatingIpRoute.objects.filter(address=fip.address).values_list("next_hop", flat=True).first()


def test_assign_move_unassign_server_deletion_and_release(fleet, personas, django_capture_on_commit_callbacks):  # noqa: F811
    cap = django_capture_on_commit_callbacks
    offer_ensure()
    with cap(execute=True):
        one, _a = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-1")
    with cap(execute=True):
        two, _b = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-2")
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.status == two.status == "running"
    owner = personas.owner

    with cap(execute=True):
        fip, action = services.floating_ip_create(
            actor=owner, organisation=personas.org, project=personas.project, name="vip", server=one
        )
    fip.refresh_from_db()
    action.refresh_from_db()
    assert action.status == "success", action.error_detail
    assert (fip.status, fip.server_id) == (S.ASSIGNED, one.pk)
    assert _allowed(one) == {one.ipv4, one.ipv6, fip.address}
    assert _route(fip) == one.ipv4

    with cap(execute=True):
        move = services.floating_ip_assign(actor=owner, floating_ip=fip, server=two)
    move.refresh_from_db()
    fip.refresh_from_db()
    assert move.status == "success", move.error_detail
    assert (fip.status, fip.server_id) == (S.ASSIGNED, two.pk)
    assert fip.address in _allowed(two) and fip.address not in _allowed(one)
    assert one.ipv4 in _allowed(one)
    assert _route(fip) == two.ipv4

    with cap(execute=True):
        services.floating_ip_unassign(actor=owner, floating_ip=fip)
    fip.refresh_from_db()
    assert (fip.status, fip.server_id) == (S.AVAILABLE, None)
    assert fip.address not in _allowed(two) and _route(fip) is None

    with cap(execute=True):
        services.floating_ip_assign(actor=owner, floating_ip=fip, server=one)
    assert _route(fip) == one.ipv4
    with cap(execute=True):
        instance_services.instance_delete(instance=one, actor=owner)
    one.refresh_from_db()
    assert one.status == "deleted"
    fip.refresh_from_db()
    assert (fip.status, fip.server_id) == (S.AVAILABLE, None)  # kept, unassigned, visible
    assert _route(fip) is None
    last = Action.objects.filter(resource_type="floating_ip", resource_id=fip.public_id).order_by("-id").first()
    assert (last.type, last.status, last.params["previous_server_id"]) == ("unassign", "success", one.pk)

    address = fip.address
    with cap(execute=True):
        services.floating_ip_delete(actor=owner, floating_ip=fip)
    fip = FloatingIp.objects.get(pk=fip.pk)
    assert fip.status == S.RELEASED and fip.deleted_at is not None and fip.allocation_id is None
    assert not IpAllocation.objects.filter(address=address).exists()


def test_a_duplicated_task_message_runs_an_action_once(fleet, personas, django_capture_on_commit_callbacks):  # noqa: F811
    from apps.floating_ips.tasks import run_action

    offer_ensure()
    with django_capture_on_commit_callbacks(execute=True):
        server, _a = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-1")
    server.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        _fip, action = services.floating_ip_create(
            actor=personas.owner, organisation=personas.org, project=personas.project, name="vip", server=server
        )
    assert action is not None
    run_action.apply(args=[action.pk])  # the broker delivered it twice: the claim refuses the second
    action.refresh_from_db()
    assert (action.status, action.attempts) == ("success", 1)


def test_a_rebuild_puts_the_floating_ips_back_in_the_new_vms_ip_set(
    fleet,  # noqa: F811 - the fixture
    personas,
    django_capture_on_commit_callbacks,
):
    cap, owner = django_capture_on_commit_callbacks, personas.owner
    offer_ensure()
    with cap(execute=True):
        server, _action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-1")
    with cap(execute=True):
        fip, _assign = services.floating_ip_create(
            actor=owner, organisation=personas.org, project=personas.project, name="vip", server=server
        )
    server.refresh_from_db()
    assert _allowed(server) == {server.ipv4, server.ipv6, fip.address}

    with cap(execute=True):
        rebuild = instance_services.instance_rebuild(instance=server, image=fleet.ubuntu24, actor=owner)
    rebuild.refresh_from_db()
    server.refresh_from_db()
    assert (rebuild.status, server.status) == ("success", "running"), rebuild.error_detail
    # The VM was destroyed and cloned again: its set holds the floating IP again, as its cloud-init does.
    assert _allowed(server) == {server.ipv4, server.ipv6, fip.address}
    assert fip.address in services.server_floating_addresses(server)
    fip.refresh_from_db()
    assert (fip.status, fip.server_id) == (S.ASSIGNED, server.pk)


def test_a_rebuild_of_a_server_without_floating_ips_enqueues_nothing(
    fleet,  # noqa: F811 - the fixture
    personas,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    from apps.floating_ips.services import floating_ips as fip_services

    cap, owner = django_capture_on_commit_callbacks, personas.owner
    with cap(execute=True):
        server, _action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-1")
    sent = []
    monkeypatch.setattr(fip_services, "task_enqueue", lambda name, *args: sent.append((name, args)))
    with cap(execute=True):
        rebuild = instance_services.instance_rebuild(instance=server, image=fleet.ubuntu24, actor=owner)
    rebuild.refresh_from_db()
    assert rebuild.status == "success", rebuild.error_detail
    assert sent == []
