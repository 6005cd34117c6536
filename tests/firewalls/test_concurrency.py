"""Races on firewalls against real PostgreSQL and the simulator: exactly one consistent outcome.

Two firewalls applied to one server at the same moment, each by its own thread running its own
``apply`` task (eager, on commit): the per-server lock serialises the VM writes and the second
writes the union, so the VM ends with exactly both groups, once each, in firewall order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from apps.core.errors import ApplicationError
from apps.firewalls import services
from apps.firewalls.choices import MemberStatus
from apps.firewalls.models import FirewallServer, ServerFirewall
from apps.instances.choices import ActionResource
from apps.instances.models import Action
from tests.firewalls.conftest import SSH, WEB, vm_state
from tests.instances.conftest import _fast_driver, create_instance, fleet  # noqa: F401 - fixtures

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


def _firewall(personas, name, rules):
    firewall, _actions = services.firewall_create(
        actor=personas.owner, organisation=personas.org, project=personas.project, name=name, rules_data=rules
    )
    return firewall


def test_two_firewalls_updating_one_server_at_once_give_both_exactly_once(fleet, personas):  # noqa: F811
    server, _action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-1")
    server.refresh_from_db()
    assert server.status == "running"
    first, second = _firewall(personas, "a", [WEB]), _firewall(personas, "b", [SSH])
    for _round in range(3):
        results = _race(
            lambda: services.firewall_apply_to(firewall=first, actor=personas.owner, servers=[server]),
            lambda: services.firewall_apply_to(firewall=second, actor=personas.owner, servers=[server]),
        )
        assert not [r for r in results if isinstance(r, ApplicationError)]
        state = vm_state(fleet, server)
        assert state.groups == (first.group, second.group)
        assert state.enable and state.policy_in == "DROP"
        assert ServerFirewall.objects.get(instance=server).groups == [first.group, second.group]
        assert set(FirewallServer.objects.values_list("status", flat=True)) == {MemberStatus.APPLIED}
        actions = Action.objects.filter(resource_type=ActionResource.FIREWALL, type="apply")
        assert {a.status for a in actions} == {"success"}, [a.error_detail for a in actions]
        # And both leave at once: the server is open again, nothing half-done.
        _race(
            lambda: services.firewall_remove_from(firewall=first, actor=personas.owner, servers=[server]),
            lambda: services.firewall_remove_from(firewall=second, actor=personas.owner, servers=[server]),
        )
        state = vm_state(fleet, server)
        assert state.groups == () and state.policy_in == "ACCEPT"
        assert not FirewallServer.objects.exists()


def test_a_rule_change_racing_an_apply_leaves_the_group_and_vm_consistent(fleet, personas):  # noqa: F811
    server, _action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-2")
    server.refresh_from_db()
    firewall = _firewall(personas, "a", [WEB])
    out = {"direction": "out", "protocol": "tcp", "port": "443", "destination_ips": ["0.0.0.0/0"]}
    _race(
        lambda: services.firewall_apply_to(firewall=firewall, actor=personas.owner, servers=[server]),
        lambda: services.firewall_set_rules(firewall=firewall, actor=personas.owner, rules_data=[SSH, out]),
    )
    from tests.firewalls.conftest import group_rules

    assert [(r["type"], r["dport"]) for r in group_rules(fleet, firewall.group)] == [("in", "22"), ("out", "443")]
    state = vm_state(fleet, server)
    assert state.groups == (firewall.group,) and state.policy_out == "DROP"


def test_a_membership_committed_during_a_sync_is_left_for_its_own_action(fleet, personas, monkeypatch):  # noqa: F811
    """The interleaving behind a once-in-many-runs failure of the race above, made deterministic.

    A sync reads the server's memberships under the server's lock; another firewall's apply (which does
    not take that lock) commits its membership before the sync finishes. The sync must not delete the
    row it never read, or the second firewall silently never reaches the VM.
    """
    from apps.firewalls.services import execution

    server, _action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-3")
    server.refresh_from_db()
    first, second = _firewall(personas, "a", [WEB]), _firewall(personas, "b", [SSH])
    FirewallServer.objects.create(firewall=first, instance=server, direct=True)
    wanted = execution._wanted

    def wanted_then_another_commits(instance):
        result = wanted(instance)

        def commit_second() -> None:
            FirewallServer.objects.create(firewall=second, instance=server, direct=True)
            connection.close()

        thread = threading.Thread(target=commit_second)
        thread.start()
        thread.join()
        return result

    monkeypatch.setattr(execution, "_wanted", wanted_then_another_commits)
    assert execution.server_firewall_sync(instance_id=server.pk, drivers=execution.Drivers())
    assert vm_state(fleet, server).groups == (first.group,)
    assert FirewallServer.objects.filter(firewall=second, instance=server).exists()
    monkeypatch.setattr(execution, "_wanted", wanted)
    assert execution.server_firewall_sync(instance_id=server.pk, drivers=execution.Drivers())
    assert vm_state(fleet, server).groups == (first.group, second.group)
