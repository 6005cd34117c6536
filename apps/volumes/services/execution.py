"""What the volumes task runs: claim an action, do its Proxmox work, record the outcome.

* Actions are rows of the shared ``apps.instances.models.Action`` (``resource_type``
  "volume"); claiming, progress and the end are the shared helpers of
  ``apps.instances.services.actions``. The claim is one conditional UPDATE, so a
  duplicated or redelivered message never runs an action twice (docs/dev/style.md#celery-tasks).
* Every step is idempotent: a volid is saved as soon as PVE returns it, an
  attach first looks for the volume already in the VM's config, a detach or
  delete of something already gone is success, and a UPID is saved before it
  is waited on (docs/dev/proxmox-behaviour.md#lock-rule-idempotent).
* Transient driver errors propagate to the task, which retries; permanent
  ones end the action in error and put the volume back where it was usable.

Proxmox calls (docs/dev/proxmox-behaviour.md#volume-keeping): the volume is
allocated owned by the storage's holder VMID, attached by volid with the
tier's throttles and a serial, detached by dropping the config line.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.infrastructure.proxmox import ProxmoxDriver
from apps.infrastructure.proxmox.errors import (
    ProxmoxNotFound,
    ProxmoxParameterError,
    ProxmoxPermanentError,
    ProxmoxTaskFailed,
)
from apps.infrastructure.proxmox.types import IoLimits, Upid
from apps.instances.choices import ActionResource, ActionType
from apps.instances.models import Action, Instance
from apps.instances.services import (
    instance_driver,
    resource_action_claim,
    resource_action_fail,
    resource_action_progress,
    resource_action_succeed,
)
from apps.volumes import rules
from apps.volumes.choices import VolumeStatus
from apps.volumes.models import Volume
from apps.volumes.services.volumes import volume_prices, volume_reservation_release

logger = logging.getLogger(__name__)

TASK_WAIT_SECONDS = 20 * 60
# scsi1..scsi30: scsi0 is the server's own boot disk; SCSI disks hot-plug on a running VM
# (docs/dev/proxmox-behaviour.md#hotplug) and get a stable /dev/disk/by-id path from their serial.
SLOTS = tuple(f"scsi{n}" for n in range(1, 31))


class VolumeOperationFailed(Exception):
    """A permanent failure: the action ends in error with ``code`` and a customer message."""

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail or message


def volume_action_claim(*, action_id: int, task_id: str) -> Action | None:
    """Claim a volume action for ``task_id`` (the shared conditional-UPDATE claim); None when done or held elsewhere.

    An id that is not a volume action (a misrouted message) is never claimed.
    """
    if not Action.objects.filter(pk=action_id, resource_type=ActionResource.VOLUME).exists():
        logger.warning("volume action %s: not a volume action", action_id)
        return None
    return resource_action_claim(action_id=action_id, task_id=task_id)


def volume_action_execute(*, action: Action) -> None:
    """Run a claimed action; a permanent failure ends it in error (transient ones propagate)."""
    try:
        {
            ActionType.CREATE: _create,
            ActionType.ATTACH: _attach_action,
            ActionType.DETACH: _detach,
            ActionType.RESIZE: _resize,
            ActionType.DELETE: _delete,
        }[ActionType(action.type)](action)
    except VolumeOperationFailed as exc:
        volume_action_fail(action=action, code=exc.code, message=exc.message, detail=exc.detail)
    except (ProxmoxPermanentError, ProxmoxTaskFailed) as exc:
        volume_action_fail(
            action=action,
            code="proxmox_error",
            message=_("The operation failed. Our team has been notified."),
            detail=str(exc),
        )


def volume_action_fail(*, action: Action, code: str, message: str, detail: str) -> None:
    """End the action in error; the volume returns to the last state it is usable in."""
    with transaction.atomic():
        resource_action_fail(action=action, code=code, message=message, detail=detail)
        volume = Volume.objects.select_for_update(no_key=True).get(public_id=_volume_id(action))
        fields: dict[str, Any] = {"error_message": message[:300], "current_upid": ""}
        if action.type == ActionType.CREATE:
            if volume.volid:
                # Allocated, only the attach failed: a usable, detached volume.
                fields.update(status=VolumeStatus.AVAILABLE, server=None, slot="")
            else:
                # Its reservation stays until the customer deletes the errored volume (``_delete`` frees it).
                fields.update(status=VolumeStatus.ERROR, server=None)
        elif action.type == ActionType.ATTACH:
            fields.update(status=VolumeStatus.AVAILABLE, server=None, slot="")
        elif action.type == ActionType.RESIZE:
            fields.update(status=VolumeStatus.IN_USE if volume.server_id else VolumeStatus.AVAILABLE)
            grown = int(action.params.get("size_gb", volume.size_gb)) - volume.size_gb
            volume_reservation_release(cluster_storage_id=volume.cluster_storage_id, size_gb=grown)
        elif action.type == ActionType.DETACH:
            fields.update(status=VolumeStatus.IN_USE if volume.server_id else VolumeStatus.AVAILABLE)
        else:
            fields.update(status=VolumeStatus.ERROR)
        Volume.objects.filter(pk=volume.pk).update(**fields)


def _volume_id(action: Action) -> uuid.UUID:
    """The public id of the volume a (claimed, hence volume) action acts on."""
    if action.resource_id is None:
        raise VolumeOperationFailed("no_volume", _("The volume no longer exists."), f"action {action.pk} names none")
    return action.resource_id


def _finish(action: Action, **volume_fields: Any) -> None:
    """Save the volume's new state and end the action in success, in one transaction."""
    with transaction.atomic():
        Volume.objects.filter(public_id=_volume_id(action)).update(error_message="", current_upid="", **volume_fields)
        resource_action_succeed(action=action)


def _volume(action: Action) -> Volume:
    return Volume.objects.select_related("tier", "cluster_storage", "cluster", "server__cluster").get(
        public_id=_volume_id(action)
    )


def _driver(volume: Volume) -> ProxmoxDriver:
    if volume.cluster is None or volume.cluster_storage is None:
        raise VolumeOperationFailed("no_storage", _("The volume has no storage."), "no cluster storage")
    return instance_driver(volume.cluster)


def _wait(volume: Volume, driver: ProxmoxDriver, start: Any) -> None:
    """Start a Proxmox task once: its UPID is saved before waiting, and a retry waits on it instead."""
    upid = volume.current_upid or start()
    if not upid:
        return
    if not volume.current_upid:
        Volume.objects.filter(pk=volume.pk).update(current_upid=upid)
        volume.current_upid = upid
    try:
        driver.wait_task(Upid.parse(upid).node, upid, timeout=TASK_WAIT_SECONDS)
    finally:
        Volume.objects.filter(pk=volume.pk).update(current_upid="")
        volume.current_upid = ""


def volume_limits(volume: Volume, size_gb: int | None = None) -> IoLimits:
    """The tier's throttles for the volume's size (``rules.throttle``)."""
    throttle = rules.throttle(
        iops_per_tb=int(volume.tier.storage_iops_per_tb or 0), size_gb=int(size_gb or volume.size_gb)
    )
    return IoLimits(
        iops_rd=throttle.iops_rd, iops_wr=throttle.iops_wr, mbps_rd=throttle.mbps_rd, mbps_wr=throttle.mbps_wr
    )


def _create(action: Action) -> None:
    volume = _volume(action)
    driver = _driver(volume)
    storage = volume.cluster_storage
    assert storage is not None  # noqa: S101 - _driver checked it
    if not volume.volid:
        # Owned by the holder VMID: no server's destroy can free it (docs/dev/proxmox-behaviour.md#volume-keeping).
        volid = driver.volume_allocate(
            storage.node_name, storage.storage, vmid=storage.holder_vmid, size_gb=volume.size_gb
        )
        Volume.objects.filter(pk=volume.pk).update(volid=volid)
        volume.volid = volid
    resource_action_progress(action=action, value=50)
    server_id = action.params.get("server_id")
    if server_id:
        slot = _attach(volume, Instance.objects.select_related("cluster").get(pk=server_id), driver)
        _finish(action, status=VolumeStatus.IN_USE, slot=slot)
    else:
        _finish(action, status=VolumeStatus.AVAILABLE)


def _attach_action(action: Action) -> None:
    volume = _volume(action)
    driver = _driver(volume)
    server = Instance.objects.select_related("cluster").get(pk=action.params["server_id"])
    slot = _attach(volume, server, driver)
    _finish(action, status=VolumeStatus.IN_USE, slot=slot)


def _slot_of(options: dict[str, Any], volid: str) -> str | None:
    for key, value in options.items():
        if key in SLOTS and str(value).split(",", 1)[0] == volid:
            return key
    return None


def _attach(volume: Volume, server: Instance, driver: ProxmoxDriver) -> str:
    """Attach by volid on the first free SCSI slot, with the tier's throttles; reuse the slot of an earlier try."""
    if server.vmid is None or not server.node_name:
        raise VolumeOperationFailed("server_missing", _("The server is not ready."), "server without VMID")
    try:
        options = dict(driver.config(server.node_name, server.vmid).options)
    except ProxmoxNotFound as exc:
        raise VolumeOperationFailed("server_missing", _("The server no longer exists."), str(exc)) from exc
    slot = _slot_of(options, volume.volid)
    if slot is not None:
        return slot
    slot = next((s for s in SLOTS if s not in options), None)
    if slot is None:
        raise VolumeOperationFailed("no_free_slot", _("The server has no free disk slot."), "scsi1..scsi30 taken")
    try:
        driver.volume_attach(
            server.node_name,
            server.vmid,
            volid=volume.volid,
            slot=slot,
            limits=volume_limits(volume),
            serial=volume.serial,
        )
    except ProxmoxParameterError as exc:
        if slot in exc.errors and "hotplug" in str(exc.errors[slot]):
            # The disk waits pending; give up cleanly so the volume stays free (driver.volume_attach's docstring).
            driver.volume_detach(server.node_name, server.vmid, slot=slot)
            raise VolumeOperationFailed(
                "hotplug_failed", _("The server refused the disk. Try again with the server stopped."), str(exc)
            ) from exc
        raise
    return slot


def _detach(action: Action) -> None:
    volume = _volume(action)
    server = volume.server
    if server is not None and server.vmid is not None and server.cluster is not None:
        driver = instance_driver(server.cluster)
        try:
            options = dict(driver.config(server.node_name, server.vmid).options)
        except ProxmoxNotFound:
            options = {}
        slot = _slot_of(options, volume.volid)
        if slot is not None:
            # Dropping the line only: the holder owns the volume, so nothing is freed (#volume-keeping).
            driver.volume_detach(server.node_name, server.vmid, slot=slot)
    _finish(action, status=VolumeStatus.AVAILABLE, server=None, slot="")


def _resize(action: Action) -> None:
    volume = _volume(action)
    size_gb = int(action.params["size_gb"])
    server = volume.server
    if server is None or server.vmid is None or server.cluster is None:
        raise VolumeOperationFailed("volume_not_attached", _("Attach the volume to a server to grow it."))
    driver = instance_driver(server.cluster)
    options = dict(driver.config(server.node_name, server.vmid).options)
    slot = _slot_of(options, volume.volid)
    if slot is None:
        raise VolumeOperationFailed("volume_not_attached", _("The volume is not on its server."), "slot not found")
    _wait(volume, driver, lambda: driver.volume_resize(server.node_name, server.vmid or 0, slot=slot, size_gb=size_gb))
    driver.volume_set_limits(server.node_name, server.vmid, slot=slot, limits=volume_limits(volume, size_gb))
    hourly, monthly = volume_prices(tier=volume.tier, size_gb=size_gb)
    _finish(action, status=VolumeStatus.IN_USE, slot=slot, size_gb=size_gb, price_hourly=hourly, price_monthly=monthly)


def _delete(action: Action) -> None:
    volume = _volume(action)
    if volume.volid:
        driver = _driver(volume)
        storage = volume.cluster_storage
        assert storage is not None  # noqa: S101
        present = {
            v.volid
            for v in driver.storage_content(
                storage.node_name, storage.storage, content="images", vmid=storage.holder_vmid
            )
        }
        if volume.volid in present:
            _wait(volume, driver, lambda: driver.volume_delete(storage.node_name, storage.storage, volid=volume.volid))
    with transaction.atomic():
        # Released once: the status moves to deleted in the same transaction.
        if Volume.objects.filter(pk=volume.pk).exclude(status=VolumeStatus.DELETED).exists():
            volume_reservation_release(cluster_storage_id=volume.cluster_storage_id, size_gb=volume.size_gb)
        _finish(action, status=VolumeStatus.DELETED, deleted_at=timezone.now())
