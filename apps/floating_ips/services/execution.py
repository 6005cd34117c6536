"""What the floating IPs task runs: claim an action, allow the address on the VM, move the route, record it.

Proxmox has no floating-IP object (docs/dev/proxmox-behaviour.md#ipfilter):

* the VM's anti-spoofing set ``ipfilter-net0`` is made to hold exactly the
  server's own addresses and the floating IPs assigned to it
  (``ProxmoxDriver.vm_firewall_ipset_put``), so the guest may answer from them
  once the firewall enforces the set;
* the routing backend (``routing``) points the address at the server's
  primary IPv4 (``announce``) or stops routing it (``withdraw``).

Every step is idempotent (the IP set is computed from the database, the
backend's calls are idempotent), so a retried or redelivered task redoes
them safely. A move allows the address on the new server, announces the new
next hop, then removes it from the old server. Transient Proxmox and routing
errors propagate to the task, which retries; permanent ones end the action in
error with the floating IP in ``error`` (assign or unassign again to repair).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.floating_ips.choices import ROUTED_STATUSES, FloatingIpStatus
from apps.floating_ips.models import FloatingIp
from apps.floating_ips.routing import routing_backend
from apps.infrastructure.models import IpAllocation
from apps.infrastructure.proxmox.errors import ProxmoxNotFound, ProxmoxPermanentError, ProxmoxTaskFailed
from apps.instances.choices import ActionResource, ActionType, InstanceStatus
from apps.instances.models import Action, Instance
from apps.instances.services import (
    guest_network_sync,
    instance_driver,
    resource_action_claim,
    resource_action_fail,
    resource_action_progress,
    resource_action_succeed,
)

logger = logging.getLogger(__name__)
IPSET = "ipfilter-net0"
S = FloatingIpStatus


class FloatingIpOperationFailed(Exception):
    """A permanent failure: the action ends in error with ``code`` and a customer message."""

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail or message


def floating_ip_action_claim(*, action_id: int, task_id: str) -> Action | None:
    """Claim a floating IP action for ``task_id`` (the shared conditional-UPDATE claim); None when done or elsewhere.

    An id that is not a floating IP action (a misrouted message) is never claimed.
    """
    if not Action.objects.filter(pk=action_id, resource_type=ActionResource.FLOATING_IP).exists():
        logger.warning("floating IP action %s: not a floating IP action", action_id)
        return None
    return resource_action_claim(action_id=action_id, task_id=task_id)


def floating_ip_action_execute(*, action: Action) -> None:
    """Run a claimed action; a permanent failure ends it in error (transient ones propagate)."""
    try:
        {
            ActionType.ASSIGN: _assign,
            ActionType.UNASSIGN: _unassign,
            ActionType.DELETE: _release,
        }[ActionType(action.type)](action)
    except FloatingIpOperationFailed as exc:
        floating_ip_action_fail(action=action, code=exc.code, message=exc.message, detail=exc.detail)
    except (ProxmoxPermanentError, ProxmoxTaskFailed) as exc:
        floating_ip_action_fail(
            action=action,
            code="proxmox_error",
            message=_("The operation failed. Our team has been notified."),
            detail=str(exc),
        )


def floating_ip_action_fail(*, action: Action, code: str, message: str, detail: str) -> None:
    """End the action in error; the floating IP shows ``error`` until assigned or unassigned again."""
    with transaction.atomic():
        resource_action_fail(action=action, code=code, message=message, detail=detail)
        FloatingIp.objects.filter(public_id=_resource_id(action)).exclude(status=S.RELEASED).update(
            status=S.ERROR, error_message=message[:300], updated_at=timezone.now()
        )


def server_allowed_cidrs(server: Instance) -> list[str]:
    """What ``ipfilter-net0`` of ``server`` must hold: its own addresses and the floating IPs routed to it."""
    cidrs = [f"{server.ipv4}/32"] if server.ipv4 else []
    if server.ipv6:
        cidrs.append(f"{server.ipv6}/128")
    floating = FloatingIp.objects.filter(server=server, status__in=ROUTED_STATUSES).order_by("address")
    cidrs.extend(fip.cidr for fip in floating)
    return cidrs


def server_floating_addresses(server: Instance) -> list[str]:
    """The floating IPs routed (or being routed) to ``server``: the extra addresses of its public card.

    Registered as a guest address provider (apps.instances.services.guest_network), so the server's
    cloud-init network-config carries them at its next boot.
    """
    floating = FloatingIp.objects.filter(server=server, status__in=ROUTED_STATUSES).order_by("address")
    return [fip.address for fip in floating]


def server_ipset_sync(*, instance_id: int) -> None:
    """Put the server's IP set (and cloud-init addresses) back in step with its floating IPs.

    For a VM made anew under a server (a rebuild destroys and re-clones it, so its ``ipfilter-net0`` is
    gone); idempotent, a missing or deleted server is a no-op. Transient Proxmox errors propagate (the task
    retries).
    """
    _ipset_sync(Instance.objects.select_related("cluster").filter(pk=instance_id).first())


def _ipset_sync(server: Instance | None) -> None:
    """Make the server's anti-spoofing set and cloud-init network-config match the database.

    A server gone from Proxmox has nothing to update. The guest's configuration
    (docs/dev/proxmox-behaviour.md#cloudinit-network) carries the floating IPs at its next boot.
    """
    if server is None or server.status == InstanceStatus.DELETED or server.vmid is None or server.cluster is None:
        return
    driver = instance_driver(server.cluster)
    try:
        driver.vm_firewall_ipset_put(server.node_name, server.vmid, name=IPSET, cidrs=server_allowed_cidrs(server))
        if guest_network_sync(driver=driver, server=server):
            driver.vm_cloudinit_regenerate(server.node_name, server.vmid)
    except ProxmoxNotFound:
        logger.info("server %s: VM gone, its IP set went with it", server.pk)


def _resource_id(action: Action) -> uuid.UUID:
    assert action.resource_id is not None  # noqa: S101 - every floating IP action names its floating IP
    return action.resource_id


def _server(pk: Any) -> Instance | None:
    if not pk:
        return None
    return Instance.objects.select_related("cluster").filter(pk=pk).first()


def _floating_ip(action: Action) -> FloatingIp:
    return FloatingIp.objects.select_related("datacentre").get(public_id=_resource_id(action))


def _finish(action: Action, **fields: Any) -> None:
    with transaction.atomic():
        FloatingIp.objects.filter(public_id=_resource_id(action)).update(
            error_message="", updated_at=timezone.now(), **fields
        )
        resource_action_succeed(action=action)


def _assign(action: Action) -> None:
    floating_ip = _floating_ip(action)
    server = _server(action.params.get("server_id"))
    if server is None or floating_ip.server_id != server.pk:
        # The server was deleted while the action waited (the receiver took it away): nothing to route.
        routing_backend().withdraw(datacentre=floating_ip.datacentre.code, address=floating_ip.address)
        _finish(action, status=S.AVAILABLE, server=None)
        return
    if not server.ipv4:
        raise FloatingIpOperationFailed("server_not_ready", _("The server has no public IPv4 address."))
    _ipset_sync(server)
    resource_action_progress(action=action, value=40)
    routing_backend().announce(
        datacentre=floating_ip.datacentre.code, address=floating_ip.address, next_hop=str(server.ipv4)
    )
    resource_action_progress(action=action, value=70)
    _ipset_sync(_server(action.params.get("previous_server_id")))
    with transaction.atomic():
        locked = FloatingIp.objects.select_for_update(no_key=True).get(pk=floating_ip.pk)
        if locked.server_id != server.pk:
            # Taken away by the server's deletion after the route was announced: withdraw it again.
            routing_backend().withdraw(datacentre=floating_ip.datacentre.code, address=floating_ip.address)
            _finish(action, status=S.AVAILABLE, server=None)
            return
        _finish(action, status=S.ASSIGNED)


def _unassign(action: Action) -> None:
    floating_ip = _floating_ip(action)
    routing_backend().withdraw(datacentre=floating_ip.datacentre.code, address=floating_ip.address)
    resource_action_progress(action=action, value=50)
    _ipset_sync(_server(action.params.get("previous_server_id")))
    _finish(action, status=S.AVAILABLE, server=None)


def _release(action: Action) -> None:
    floating_ip = _floating_ip(action)
    routing_backend().withdraw(datacentre=floating_ip.datacentre.code, address=floating_ip.address)
    resource_action_progress(action=action, value=50)
    _ipset_sync(_server(action.params.get("previous_server_id")))
    with transaction.atomic():
        locked = FloatingIp.objects.select_for_update(no_key=True).get(pk=floating_ip.pk)
        allocation_id = locked.allocation_id
        FloatingIp.objects.filter(pk=locked.pk).update(allocation=None)
        if allocation_id is not None:
            # The address goes back to the pool.
            IpAllocation.objects.filter(pk=allocation_id).delete()
        _finish(action, status=S.RELEASED, server=None, deleted_at=locked.deleted_at or timezone.now())
