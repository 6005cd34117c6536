"""What the networks task runs: claim an action, do its Proxmox work, record the outcome.

* The claim is one conditional UPDATE (``resource_action_claim``), so a duplicate
  or redelivered message never runs an action twice (docs/dev/style.md#celery-tasks).
* Every step is idempotent: the zone is ensured (created or left alone), a VNet
  or subnet that exists is not written again, an apply's UPID is saved before it
  is waited on and a retry waits on it, a NIC is set with the same MAC, a removal
  of something already gone is success.
* SDN writes stay pending until ``PUT /cluster/sdn`` (docs/dev/proxmox-behaviour.md#sdn-apply);
  PVE 8.4 has no SDN lock, so applies on one cluster are serialised here by the
  zone's row lock. The apply task ends ``OK`` even when a node missed the reload:
  an attach checks that the VNet exists on the server's node and applies again
  (transient error, the task retries) when it does not.
* Transient driver errors propagate to the task, which retries; permanent ones
  end the action in error and leave the network or card in the last usable state.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.infrastructure.proxmox import ProxmoxDriver
from apps.infrastructure.proxmox.errors import (
    ProxmoxNotFound,
    ProxmoxPermanentError,
    ProxmoxTaskFailed,
    ProxmoxTransientError,
)
from apps.infrastructure.proxmox.types import Upid
from apps.instances.choices import ActionType, InstanceStatus
from apps.instances.models import Action
from apps.instances.services import (
    guest_network_sync,
    instance_driver,
    resource_action_claim,
    resource_action_fail,
    resource_action_progress,
    resource_action_succeed,
)
from apps.networks.choices import AttachmentStatus, NetworkStatus
from apps.networks.models import Attachment, Network, NetworkZone
from apps.networks.signals import server_network_changed

logger = logging.getLogger(__name__)

TASK_WAIT_SECONDS = 10 * 60


class NetworkOperationFailed(Exception):
    """A permanent failure: the action ends in error with ``code`` and a customer message."""

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail or message


class VnetNotReady(ProxmoxTransientError):
    """The VNet is not on the server's node yet (a node missed the reload): transient, the task retries."""


def network_action_claim(*, action_id: int, task_id: str) -> Action | None:
    """Claim the action for ``task_id``; None when done or held by another task."""
    return resource_action_claim(action_id=action_id, task_id=task_id)


def network_action_execute(*, action: Action) -> None:
    """Run a claimed action; a permanent failure ends it in error (transient ones propagate)."""
    handlers = {
        ActionType.CREATE: _create,
        ActionType.APPLY: _apply_action,
        ActionType.ATTACH: _attach,
        ActionType.DETACH: _detach,
        ActionType.DELETE: _delete,
    }
    try:
        handlers[ActionType(action.type)](action)
    except NetworkOperationFailed as exc:
        network_action_fail(action=action, code=exc.code, message=exc.message, detail=exc.detail)
    except (ProxmoxPermanentError, ProxmoxTaskFailed) as exc:
        network_action_fail(
            action=action,
            code="proxmox_error",
            message=_("The operation failed. Our team has been notified."),
            detail=str(exc),
        )


def network_action_fail(*, action: Action, code: str, message: str, detail: str) -> None:
    """End the action in error; the network and card return to the last state they are usable in."""
    with transaction.atomic():
        resource_action_fail(action=action, code=code, message=message, detail=detail)
        network = Network.objects.select_for_update(no_key=True).get(public_id=str(action.resource_id))
        fields: dict[str, Any] = {"error_message": message[:300], "current_upid": ""}
        if action.type in (ActionType.CREATE, ActionType.DELETE):
            fields["status"] = NetworkStatus.ERROR
        Network.objects.filter(pk=network.pk).update(**fields)
        attachment_id = action.params.get("attachment_id")
        if attachment_id and action.type == ActionType.ATTACH:
            # The card never came up: free its address and slot.
            Attachment.objects.filter(pk=attachment_id).exclude(status=AttachmentStatus.DETACHED).update(
                status=AttachmentStatus.DETACHED, detached_at=timezone.now(), detached_reason="attach failed"
            )
        elif attachment_id and action.type == ActionType.DETACH:
            Attachment.objects.filter(pk=attachment_id, status=AttachmentStatus.DETACHING).update(
                status=AttachmentStatus.ATTACHED
            )


def _network(action: Action) -> Network:
    return Network.objects.select_related("zone", "cluster").get(public_id=str(action.resource_id))


def _apply(network: Network, driver: ProxmoxDriver) -> None:
    """``PUT /cluster/sdn`` and wait for its ``reloadnetworkall`` task, one apply at a time per cluster.

    PVE 8.4 has no SDN lock (docs/dev/proxmox-behaviour.md#sdn-apply): the zone's row lock, held until the task
    ended, serialises the platform's applies on a cluster. Applying is idempotent: a retried action applies again.
    """
    with transaction.atomic():
        NetworkZone.objects.select_for_update(no_key=True).get(pk=network.zone_id)
        upid = driver.sdn_apply()
        Network.objects.filter(pk=network.pk).update(current_upid=upid)
        driver.wait_task(Upid.parse(upid).node, upid, timeout=TASK_WAIT_SECONDS)
        Network.objects.filter(pk=network.pk).update(current_upid="")


def _write_vnet(network: Network, driver: ProxmoxDriver) -> None:
    """Zone, VNet and subnets in the pending SDN configuration; each written only when missing."""
    zone = network.zone
    driver.sdn_zone_ensure(zone.name, zone_type=zone.zone_type, options=dict(zone.options or {}))
    if network.vnet not in driver.sdn_vnets():
        tag = None if zone.zone_type == "simple" else network.tag
        driver.sdn_vnet_create(network.vnet, zone=zone.name, tag=tag)
    present = set(driver.sdn_subnets(network.vnet))
    wanted = list(network.subnets.order_by("id").values_list("cidr", flat=True))
    for cidr in wanted:
        if cidr not in present:
            # No gateway: a customer network is isolated layer 2 (docs/dev/proxmox-behaviour.md#sdn-ipam).
            driver.sdn_subnet_create(network.vnet, cidr=cidr)
    for cidr in sorted(present - set(wanted)):
        # A subnet the customer deleted (``subnet_delete``): the platform owns the VNet, so its subnets are
        # exactly the database's.
        driver.sdn_subnet_delete(network.vnet, cidr=cidr)


def _create(action: Action) -> None:
    network = _network(action)
    driver = instance_driver(network.cluster)
    _write_vnet(network, driver)
    resource_action_progress(action=action, value=50)
    _apply(network, driver)
    with transaction.atomic():
        Network.objects.filter(pk=network.pk).update(status=NetworkStatus.AVAILABLE, error_message="")
        resource_action_succeed(action=action)


def _apply_action(action: Action) -> None:
    """A subnet added to or deleted from an available network."""
    network = _network(action)
    driver = instance_driver(network.cluster)
    _write_vnet(network, driver)
    _apply(network, driver)
    with transaction.atomic():
        Network.objects.filter(pk=network.pk).update(error_message="")
        resource_action_succeed(action=action)


def _attachment(action: Action) -> Attachment:
    return Attachment.objects.select_related("instance__cluster", "subnet").get(pk=action.params["attachment_id"])


def _attach(action: Action) -> None:
    network = _network(action)
    attachment = _attachment(action)
    server = attachment.instance
    if server is None or server.vmid is None or server.status == InstanceStatus.DELETED:
        raise NetworkOperationFailed("server_missing", _("The server no longer exists."), "no server or VMID")
    driver = instance_driver(network.cluster)
    if not driver.sdn_vnet_ready(server.node_name, network.vnet):
        # The node missed the last reload (it was offline, or its reload failed): apply again, then retry.
        _write_vnet(network, driver)
        _apply(network, driver)
        if not driver.sdn_vnet_ready(server.node_name, network.vnet):
            raise VnetNotReady(f"vnet {network.vnet} not on node {server.node_name} yet")
    resource_action_progress(action=action, value=30)
    if attachment.subnet is None:  # never for a live card: its subnet cannot be deleted
        raise NetworkOperationFailed("subnet_missing", _("The subnet no longer exists."), "attachment without subnet")
    prefix = attachment.subnet.block.prefixlen
    try:
        # docs/dev/proxmox-behaviour.md#sdn-nic: netN on the vnet with the firewall flag, the address by ipconfigN.
        driver.vm_nic_set(server.node_name, server.vmid, index=attachment.nic_index, bridge=network.vnet)
        address = f"{attachment.address}/{prefix}"
        driver.vm_ipconfig_set(server.node_name, server.vmid, index=attachment.nic_index, ip=address)
        # A custom network-config (a floating IP on eth0) must list the new card too
        # (docs/dev/proxmox-behaviour.md#cloudinit-network).
        guest_network_sync(driver=driver, server=server)
        driver.vm_cloudinit_regenerate(server.node_name, server.vmid)
    except ProxmoxNotFound as exc:
        raise NetworkOperationFailed("server_missing", _("The server no longer exists."), str(exc)) from exc
    running = driver.status(server.node_name, server.vmid).status == "running"
    with transaction.atomic():
        # ATTACHED too: a card restored after a rebuild (``network_cards_restore``).
        Attachment.objects.filter(
            pk=attachment.pk, status__in=(AttachmentStatus.ATTACHING, AttachmentStatus.ATTACHED)
        ).update(status=AttachmentStatus.ATTACHED, attached_at=timezone.now(), needs_reboot=running)
        resource_action_succeed(action=action)
        _card_changed(attachment, AttachmentStatus.ATTACHED)


def _card_changed(attachment: Attachment, status: str) -> None:
    """Tell the apps above, once this commits, that a server's card joined or left a network."""
    if attachment.instance_id is None:
        return
    instance_id, network_id = attachment.instance_id, attachment.network_id
    # Robust: a receiver that fails is logged and never undoes the card (the load balancers' sweep catches up).
    transaction.on_commit(
        lambda: server_network_changed.send(
            sender=Attachment, instance_id=instance_id, network_id=network_id, status=status
        ),
        robust=True,
    )


def _detach(action: Action) -> None:
    network = _network(action)
    attachment = _attachment(action)
    server = attachment.instance
    if server is not None and server.vmid is not None and server.cluster is not None:
        driver = instance_driver(server.cluster)
        try:
            options = dict(driver.config(server.node_name, server.vmid).options)
            key = f"net{attachment.nic_index}"
            if key in options and f"bridge={network.vnet}" in str(options[key]):
                driver.vm_nic_remove(server.node_name, server.vmid, index=attachment.nic_index)
            if f"ipconfig{attachment.nic_index}" in options:
                driver.vm_ipconfig_remove(server.node_name, server.vmid, index=attachment.nic_index)
            guest_network_sync(driver=driver, server=server)
            driver.vm_cloudinit_regenerate(server.node_name, server.vmid)
        except ProxmoxNotFound:
            logger.info("network detach: VM %s already gone", server.vmid)
    with transaction.atomic():
        Attachment.objects.filter(pk=attachment.pk).exclude(status=AttachmentStatus.DETACHED).update(
            status=AttachmentStatus.DETACHED, detached_at=timezone.now(), detached_reason="detached", needs_reboot=False
        )
        resource_action_succeed(action=action)
        _card_changed(attachment, AttachmentStatus.DETACHED)


def _delete(action: Action) -> None:
    network = _network(action)
    driver = instance_driver(network.cluster)
    # Applied even when the VNet was already gone from the pending configuration: a retry after a failed
    # apply must still commit its removal.
    driver.sdn_vnet_delete(network.vnet)
    _apply(network, driver)
    with transaction.atomic():
        Network.objects.filter(pk=network.pk).update(
            status=NetworkStatus.DELETED, deleted_at=timezone.now(), error_message=""
        )
        resource_action_succeed(action=action)
