"""``server_network_changed``: apps above networks hear of a card once it is attached or detached.

A load balancer reaches a target by its private address as soon as both share a network
(docs/dev/style.md#events); these tests pin when the signal is sent: after the action's
transaction commits, once per card change, and never for an attach that failed.
"""

from __future__ import annotations

from typing import Any

import pytest

from apps.instances.models import Action
from apps.networks import services
from apps.networks.models import Attachment, NetworkZone
from apps.networks.signals import server_network_changed
from tests.instances.conftest import _fast_driver, create_instance, fleet  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard() -> Any:
    calls: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        calls.append({k: kwargs[k] for k in ("instance_id", "network_id", "status")})

    server_network_changed.connect(receiver, dispatch_uid="test-heard")
    yield calls
    server_network_changed.disconnect(dispatch_uid="test-heard")


def _ok(action: Action) -> None:
    action.refresh_from_db()
    assert action.status == "success", (action.error_code, action.error_detail)


def _running_server_and_network(fleet, personas, cap):  # noqa: F811
    """A running server and an available network in its datacentre, both built on the simulator."""
    NetworkZone.objects.create(
        cluster=fleet.cluster, name="vmcnets", zone_type="vxlan", options={"peers": "10.255.0.1"}
    )
    with cap(execute=True):
        server, _action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-1")
        network, action = services.network_create(
            actor=personas.owner,
            organisation=personas.org,
            project=personas.project,
            name="backend",
            datacentre=fleet.dc,
            ip_range="10.20.0.0/16",
            subnets=["10.20.1.0/24"],
        )
    _ok(action)
    network.refresh_from_db()
    return server, network


def test_attach_and_detach_are_told_once_each_after_commit(fleet, personas, heard, django_capture_on_commit_callbacks):  # noqa: F811
    cap = django_capture_on_commit_callbacks
    server, network = _running_server_and_network(fleet, personas, cap)
    assert heard == []

    with cap(execute=False) as callbacks:
        action = services.network_attach(actor=personas.owner, network=network, server=server)
    assert heard == [], "nothing is told before the attach has run"
    with cap(execute=True):
        for callback in callbacks:
            callback()
    _ok(action)
    assert Attachment.objects.get(network=network, instance=server).status == "attached"
    assert heard == [{"instance_id": server.pk, "network_id": network.pk, "status": "attached"}]

    with cap(execute=True):
        action = services.network_detach(actor=personas.owner, network=network, server=server)
    _ok(action)
    assert heard[1:] == [{"instance_id": server.pk, "network_id": network.pk, "status": "detached"}]


def test_a_failed_attach_tells_nothing(fleet, personas, heard, django_capture_on_commit_callbacks):  # noqa: F811
    cap = django_capture_on_commit_callbacks
    server, network = _running_server_and_network(fleet, personas, cap)
    # The VM vanished behind the platform's back: the attach ends in error and frees the card.
    server.__class__.objects.filter(pk=server.pk).update(vmid=999_999)
    server.refresh_from_db()
    with cap(execute=True):
        action = services.network_attach(actor=personas.owner, network=network, server=server)
    action.refresh_from_db()
    assert (action.status, action.error_code) == ("error", "server_missing")
    assert Attachment.objects.get(network=network, instance=server).status == "detached"
    assert heard == []
