"""The machinery every Proxmox operation of an Action runs on (relying on docs/dev/proxmox-behaviour.md).

* every Proxmox task's UPID is written to the database (committed) before it
  is waited on, so a retry waits for it instead of starting it again
  (``proxmox_task_run``; docs/dev/proxmox-behaviour.md#tasks, #locks);
* a VM carrying this instance's ``marker`` in its description is ours (a
  crash between the clone POST and saving its UPID), any other VM at its VMID
  is a conflict, never overwritten (docs/dev/proxmox-behaviour.md#vmid-allocation);
* a guest is shut down cleanly before a resize, rollback or destroy, and
  forced off only after a timeout;
* ``OperationFailed`` is a permanent failure (the action ends in error with a
  customer message and a staff detail); transient driver errors propagate to
  the task, which retries with backoff.

Used by ``provisioning`` and ``execution``; no public service of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.infrastructure.proxmox import ProxmoxDriver
from apps.infrastructure.proxmox.errors import ProxmoxNotFound, ProxmoxTaskFailed
from apps.infrastructure.proxmox.types import Upid
from apps.instances.choices import ActionStatus, PowerState
from apps.instances.models import Action, Instance
from apps.instances.services.access import instance_driver
from apps.instances.services.lifecycle import instance_transition

# The hard wait on one Proxmox task: a GPU VM with a lot of RAM takes minutes to start
# (docs/dev/proxmox-behaviour.md#gpu-restrictions).
TASK_WAIT_SECONDS = 20 * 60


class OperationFailed(Exception):
    """A permanent failure: the action ends in error with ``code`` and a customer message."""

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail or message


def marker(instance: Instance) -> str:
    """Written into the VM description at clone time: how we recognise our own VM after a crash."""
    return f"vmcloud-instance={instance.public_id}"


def vm_driver(instance: Instance) -> ProxmoxDriver:
    """The Proxmox client of the instance's cluster."""
    assert instance.cluster is not None  # noqa: S101 - an instance with a reservation has a cluster
    return instance_driver(instance.cluster)


def action_progress(action: Action, value: int) -> None:
    """Record how far the action got (0-100)."""
    Action.objects.filter(pk=action.pk).update(progress=min(100, value))


def action_finish(action: Action, *, to: str | None = None, **instance_fields: Any) -> None:
    """End the action in success; the instance moves to ``to`` with ``instance_fields`` (``instance_transition``)."""
    with transaction.atomic():
        if action.instance_id:
            instance = Instance.objects.select_for_update().get(pk=action.instance_id)
            if to is not None:
                instance_transition(instance=instance, to=to, **instance_fields)
            elif instance_fields:
                for key, value in instance_fields.items():
                    setattr(instance, key, value)
                instance.save(update_fields=[*instance_fields, "updated_at"])
        Action.objects.filter(pk=action.pk).update(
            status=ActionStatus.SUCCESS, progress=100, finished_at=timezone.now(), lease_until=None
        )


def upid_node(upid: str) -> str:
    """The node a Proxmox task runs on (the UPID names it)."""
    return Upid.parse(upid).node


def proxmox_task_run(instance: Instance, key: str, driver: ProxmoxDriver, start: Callable[[], str | None]) -> None:
    """Start a Proxmox task once: its UPID is committed under ``key`` before waiting, and waited on after a retry.

    ``instance.current_upid`` is what the database holds: the instance comes
    fresh from ``action_claim`` (or ``provision_run``'s refresh) and this
    function keeps the object in step with every UPDATE it makes.
    """
    if instance.current_upid and instance.current_upid_step == key:
        upid: str | None = instance.current_upid
    else:
        upid = start()
        if upid:
            Instance.objects.filter(pk=instance.pk).update(current_upid=upid, current_upid_step=key)
    if upid:
        try:
            driver.wait_task(upid_node(upid), upid, timeout=TASK_WAIT_SECONDS)
        except ProxmoxTaskFailed:
            # The task ended: waiting on it again can only fail again. PVE takes the VM lock inside the
            # worker, so a lock timeout or "VM is locked (backup)" is a task failure (docs page
            # proxmox-simulator, "Locks"): forget the UPID, so the retry starts a new task; a
            # permanent failure propagates and fails the action.
            _forget_upid(instance)
            raise
    _forget_upid(instance)


def _forget_upid(instance: Instance) -> None:
    Instance.objects.filter(pk=instance.pk).update(current_upid="", current_upid_step="")
    instance.current_upid = instance.current_upid_step = ""


def vm_config(driver: ProxmoxDriver, instance: Instance) -> dict[str, Any] | None:
    """The VM's config on its node, or None when there is no such VM.

    Asks the node the platform expects first (one small GET); only when the VM
    is not there is the cluster searched (``/cluster/resources`` lists every VM
    of the cluster, a large answer on a big cluster), in case it was migrated.
    """
    assert instance.vmid is not None  # noqa: S101
    if instance.node_name:
        try:
            return dict(driver.config(instance.node_name, instance.vmid).options)
        except ProxmoxNotFound:
            pass
    node = driver.locate(instance.vmid)
    if node is None:
        return None
    if node != instance.node_name:
        Instance.objects.filter(pk=instance.pk).update(node_name=node)
        instance.node_name = node
    try:
        return dict(driver.config(node, instance.vmid).options)
    except ProxmoxNotFound:
        return None


def vm_wait_unlocked(driver: ProxmoxDriver, instance: Instance, *, seconds: float = TASK_WAIT_SECONDS) -> None:
    """Wait until the VM's config has no ``lock`` (after a clone we did not see finish;
    docs/dev/proxmox-behaviour.md#lock-rule-wait-unlocked)."""
    deadline = time.monotonic() + seconds
    while True:
        config = vm_config(driver, instance)
        if config is None:
            raise OperationFailed("vm_missing", _("The server could not be created."), "VM vanished while locked")
        if not config.get("lock"):
            return
        if time.monotonic() > deadline:
            raise OperationFailed("vm_locked", _("The server could not be created."), f"lock {config.get('lock')}")
        time.sleep(driver.task_poll_interval)


def vm_is_ours(config: dict[str, Any], instance: Instance) -> bool:
    return marker(instance) in str(config.get("description", ""))


def vm_power_state(driver: ProxmoxDriver, instance: Instance) -> str:
    assert instance.vmid is not None  # noqa: S101
    status = driver.status(instance.node_name, instance.vmid)
    if status.qmpstatus == "paused":
        return PowerState.PAUSED
    return PowerState.RUNNING if status.status == "running" else PowerState.STOPPED


def vm_ensure_stopped(driver: ProxmoxDriver, instance: Instance, key: str) -> None:
    """Shut the guest down cleanly before a resize, rollback or destroy; force it off only after a timeout.

    One ``status/shutdown`` task with ``forceStop=1`` and ``timeout``: PVE sends the
    ACPI power button, waits up to ``timeout`` seconds for the guest to power off
    (its filesystems flushed), and only then kills QEMU (qm(1) ``shutdown``:
    "--forceStop Make sure the VM stops"). A hard ``status/stop`` would pull the
    plug on a guest that could have shut down cleanly.
    """
    assert instance.vmid is not None  # noqa: S101
    if vm_power_state(driver, instance) != PowerState.STOPPED:
        timeout = int(settings.INSTANCES_SHUTDOWN_TIMEOUT_SECONDS)
        proxmox_task_run(
            instance,
            key,
            driver,
            lambda: driver.shutdown(instance.node_name, instance.vmid or 0, timeout=timeout, force_stop=True),
        )


def vm_ensure_started(driver: ProxmoxDriver, instance: Instance, key: str) -> None:
    if vm_power_state(driver, instance) != PowerState.RUNNING:
        # docs/dev/proxmox-behaviour.md#lock-rule-already-done: "already running" is success; the status check above
        # avoids asking.
        proxmox_task_run(instance, key, driver, lambda: driver.start(instance.node_name, instance.vmid or 0))


def boot_disk(config: dict[str, Any]) -> tuple[str, int] | None:
    for key in ("scsi0", "virtio0", "sata0", "ide0"):
        value = str(config.get(key, ""))
        if value and "media=cdrom" not in value and "cloudinit" not in value:
            size = 0
            for part in value.split(","):
                if part.startswith("size="):
                    size = _size_gb(part[5:])
            return key, size
    return None


def _size_gb(text: str) -> int:
    units = {"K": 1 / 1024 / 1024, "M": 1 / 1024, "G": 1, "T": 1024}
    text = text.strip().upper()
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(int(text or 0) / 2**30)


def step_key(action: Action, part: str) -> str:
    """The key under which a Proxmox task of one action is remembered (``proxmox_task_run``)."""
    return f"a{action.pk}-{part}"
