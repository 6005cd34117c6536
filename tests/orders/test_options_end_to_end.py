"""Options ordered with a server, applied once it runs on the Proxmox simulator (issue #16).

The order's provisioning runs for real through eager Celery on commit; when the server runs, the order
completes and the task ``orders.apply_options`` joins the private network, applies the firewall and creates
and attaches the volume, once (claimed with a conditional UPDATE), resumable without doing anything twice.
A refused option is written on the order and the server is kept.
"""

from __future__ import annotations

import pytest

from apps.core.errors import Conflict
from apps.firewalls.choices import MemberStatus
from apps.firewalls.models import FirewallServer
from apps.infrastructure.models import ClusterStorage
from apps.instances.choices import InstanceStatus
from apps.networks import services as network_services
from apps.networks.models import Attachment, Network, NetworkZone
from apps.orders import services
from apps.orders.choices import OptionsStatus, OrderState
from apps.volumes.models import Volume
from tests.firewalls.conftest import WEB, make_firewall, vm_state
from tests.instances.conftest import _fast_driver, fleet  # noqa: F401 - fixtures
from tests.volumes.conftest import HOLDER, storage_tier

pytestmark = pytest.mark.django_db


def _network(fleet, personas, cap, name="backend", ip_range="10.20.0.0/16"):  # noqa: F811
    NetworkZone.objects.get_or_create(
        cluster=fleet.cluster, defaults={"name": "vmcnets", "zone_type": "vxlan", "options": {"peers": "10.255.0.1"}}
    )
    with cap(execute=True):
        network, _action = network_services.network_create(
            actor=personas.owner,
            organisation=personas.org,
            project=personas.project,
            name=name,
            datacentre=fleet.dc,
            ip_range=ip_range,
            subnets=[ip_range.replace(".0.0/16", ".1.0/24")],
        )
    network.refresh_from_db()
    assert network.status == "available"
    return network


def _order(fleet, personas, cap, **options):  # noqa: F811
    with cap(execute=True):
        order = services.order_place(
            actor=personas.member,
            organisation=personas.org,
            project=personas.project,
            offer=fleet.vps_offer,
            datacentre=fleet.dc,
            image=fleet.ubuntu24,
            name="web-1",
            **options,
        )
    order.refresh_from_db()
    return order


def test_labels_network_firewall_and_volume_are_applied_once_the_server_runs(
    fleet,  # noqa: F811
    personas,
    django_capture_on_commit_callbacks,
):
    cap = django_capture_on_commit_callbacks
    network = _network(fleet, personas, cap)
    firewall, _actions = make_firewall(personas, cap, "web", [WEB])
    tier = storage_tier(fleet.dc)
    ClusterStorage.objects.create(
        cluster=fleet.cluster, tier=tier, storage="ceph-nvme", node_name="pve1", holder_vmid=HOLDER, capacity_gb=5000
    )

    order = _order(
        fleet,
        personas,
        cap,
        labels={"env": "prod"},
        network_ids=[network.public_id],
        firewall_ids=[firewall.public_id],
        volumes=[{"size_gb": 20, "tier": tier.code}],
    )
    server = order.instance
    assert order.state == OrderState.COMPLETED and server.status == InstanceStatus.RUNNING
    assert (order.options_status, order.options_errors) == (OptionsStatus.APPLIED, []), order.options_errors
    assert server.labels == {"env": "prod"}
    attachment = Attachment.objects.get(network=network, instance=server)
    assert attachment.status == "attached" and attachment.address == "10.20.1.2"
    member = FirewallServer.objects.get(firewall=firewall, instance=server)
    assert member.direct and member.status == MemberStatus.APPLIED
    assert firewall.group in vm_state(fleet, server).groups  # on the simulator's VM
    volume = Volume.objects.get(server=server)
    assert (volume.name, volume.size_gb, volume.tier_id, volume.status) == ("web-1-vol1", 20, tier.pk, "in_use")
    assert sorted(order.options_done) == sorted(
        [f"network:{network.public_id}", f"firewall:{firewall.public_id}", "volume:0"]
    )

    # Claimed once: a second task for the same order does nothing.
    assert services.order_options_apply(order_id=order.pk) is None
    # A run cut short and resumed (the safety net puts it back to pending) applies nothing twice.
    type(order).objects.filter(pk=order.pk).update(options_status=OptionsStatus.PENDING, options_done=[])
    with cap(execute=True):
        again = services.order_options_apply(order_id=order.pk)
    assert again is not None and again.options_status == OptionsStatus.APPLIED, again.options_errors
    assert Attachment.objects.filter(instance=server).count() == 1
    assert FirewallServer.objects.filter(instance=server).count() == 1
    assert Volume.objects.filter(server=server).count() == 1


def test_a_refused_option_is_written_on_the_order_and_the_server_is_kept(
    fleet,  # noqa: F811
    personas,
    django_capture_on_commit_callbacks,
):
    cap = django_capture_on_commit_callbacks
    network = _network(fleet, personas, cap)
    firewall, _actions = make_firewall(personas, cap, "web", [WEB])
    # Between the order and the server running, the network becomes unavailable (being deleted).
    order = _order(fleet, personas, cap, labels={"env": "prod"})  # no options: nothing to apply
    assert order.options_status == ""
    Network.objects.filter(pk=network.pk).update(status="deleting")
    with cap(execute=True):
        order = services.order_place(
            actor=personas.member,
            organisation=personas.org,
            project=personas.project,
            offer=fleet.vps_offer,
            datacentre=fleet.dc,
            image=fleet.ubuntu24,
            name="web-2",
            firewall_ids=[firewall.public_id],
        )
        # Ordered while available; refused when applied.
        type(order).objects.filter(pk=order.pk).update(network_ids=[str(network.public_id)])
    order.refresh_from_db()
    assert order.state == OrderState.COMPLETED
    assert order.options_status == OptionsStatus.FAILED
    assert len(order.options_errors) == 1 and "backend" in order.options_errors[0], order.options_errors
    assert FirewallServer.objects.filter(firewall=firewall, instance=order.instance).exists()  # the rest applied
    order.instance.refresh_from_db()
    assert order.instance.status == InstanceStatus.RUNNING  # the server is kept

    # Staff apply the failed options again once the network is available: only the network is tried.
    Network.objects.filter(pk=network.pk).update(status="available")
    with cap(execute=True):
        services.order_options_retry(order=order, actor=personas.staff)
    order.refresh_from_db()
    assert (order.options_status, order.options_errors) == (OptionsStatus.APPLIED, [])
    assert Attachment.objects.filter(network=network, instance=order.instance, status="attached").exists()
    assert FirewallServer.objects.filter(firewall=firewall, instance=order.instance).count() == 1
    with pytest.raises(Conflict):
        services.order_options_retry(order=order, actor=personas.staff)  # nothing failed any more
