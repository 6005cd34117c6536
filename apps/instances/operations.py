"""The work behind every Action: the provisioning step machine and the lifecycle operations.

Called by the thin Celery tasks (``tasks.py``) with an action id. Rules,
relying on ``docs/dev/proxmox-behaviour.md``:

* a task first *claims* the action with a conditional UPDATE (free, its own
  Celery id after a redelivery, or an expired lease); 0 rows → someone else
  has it, return (docs/dev/style.md#celery-tasks);
* every Proxmox task's UPID is written to the database (committed) before it
  is waited on, so a retry waits for it instead of starting it again (docs/dev/proxmox-behaviour.md#tasks, #locks);
* before cloning, the VMID is looked up in the cluster: a VM carrying this
  instance's marker is ours (a crash between the clone POST and saving its
  UPID) and is adopted; any other VM there is a conflict, never overwritten
  (docs/dev/proxmox-behaviour.md#vmid-allocation). So a killed worker never makes a second VM;
* transient driver errors propagate to the task, which retries with backoff;
  anything else fails the action with a customer message and a staff detail.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalogue.models import Offer, OsImage
from apps.core.errors import Unavailable
from apps.core.services import audit_record
from apps.infrastructure.models import IpAllocation, VmTemplate
from apps.infrastructure.proxmox import ProxmoxDriver, ProxmoxError
from apps.infrastructure.proxmox.driver import ipconfig_spec
from apps.infrastructure.proxmox.errors import ProxmoxNotFound, ProxmoxTaskFailed
from apps.infrastructure.proxmox.types import Upid
from apps.infrastructure.services import (
    cluster_driver,
    placement_commit,
    placement_release,
    snippet_delete,
    snippet_write,
)
from apps.instances import choices
from apps.instances.choices import ActionStatus, ActionType, InstanceStatus, PowerState, ProvisionStep
from apps.instances.models import Action, Instance, Snapshot, SnapshotSchedule
from apps.instances.services import instance_transition, lease_seconds, schedule_remove

logger = logging.getLogger(__name__)

# The hard wait on one Proxmox task: a GPU VM with a lot of RAM takes minutes to start
# (docs/dev/proxmox-behaviour.md#gpu-restrictions).
TASK_WAIT_SECONDS = 20 * 60
CI_USERS = {"ubuntu": "ubuntu", "debian": "debian", "rocky": "rocky", "almalinux": "almalinux", "fedora": "fedora"}


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


def _driver(instance: Instance) -> ProxmoxDriver:
    assert instance.cluster is not None  # noqa: S101 - an instance with a reservation has a cluster
    return cluster_driver(cluster=instance.cluster, **getattr(settings, "INSTANCES_DRIVER_OPTIONS", {}))


# ---------------------------------------------------------------------------
# Claiming and finishing
# ---------------------------------------------------------------------------
def action_claim(*, action_id: int, task_id: str) -> Action | None:
    """Claim the action for the task ``task_id`` with one conditional UPDATE; None when someone else holds it."""
    now = timezone.now()
    claimed = (
        Action.objects.filter(pk=action_id, status__in=choices.OPEN_ACTION_STATUSES)
        .filter(Q(task_id="") | Q(task_id=task_id) | Q(lease_until__lt=now))
        .update(
            status=ActionStatus.RUNNING,
            task_id=task_id[:64],
            lease_until=now + timedelta(seconds=lease_seconds()),
            started_at=Coalesce("started_at", now),
            attempts=Coalesce("attempts", 0) + 1,
        )
    )
    if not claimed:
        return None
    return Action.objects.select_related("instance__cluster", "instance__offer", "instance__image").get(pk=action_id)


def _progress(action: Action, value: int) -> None:
    Action.objects.filter(pk=action.pk).update(progress=min(100, value))


def _finish(action: Action, *, to: str | None = None, **instance_fields: Any) -> None:
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


def action_fail(*, action: Action, code: str, message: str, detail: str) -> None:
    """End the action in error; the instance goes to ``error`` unless the failure left it usable."""
    with transaction.atomic():
        Action.objects.filter(pk=action.pk).update(
            status=ActionStatus.ERROR,
            finished_at=timezone.now(),
            lease_until=None,
            error_code=code[:64],
            error_message=message[:300],
            error_detail=detail,
        )
        if not action.instance_id:
            return
        instance = Instance.objects.select_for_update().get(pk=action.instance_id)
        if instance.status in (InstanceStatus.DELETED,):
            return
        if action.type in (ActionType.SNAPSHOT_CREATE, ActionType.SNAPSHOT_DELETE):
            snapshot_id = action.params.get("snapshot_id")
            Snapshot.objects.filter(pk=snapshot_id).update(status=choices.SnapshotStatus.ERROR)
            return
        if instance.status != InstanceStatus.ERROR:
            instance_transition(
                instance=instance, to=InstanceStatus.ERROR, error_message=message[:300], error_detail=detail
            )
        audit_record(
            actor=None,
            action="instances.action.failed",
            target=instance,
            organisation_id=instance.organisation_id,
            changes={"action": str(action.public_id), "type": action.type, "code": code, "detail": detail[:2000]},
        )


def action_execute(*, action: Action) -> None:
    """Run a claimed action to its end; permanent errors fail it, transient ones propagate (the task retries)."""
    try:
        if action.type in (ActionType.CREATE,):
            provision_run(action=action)
        else:
            EXECUTORS[action.type](action)
    except OperationFailed as exc:
        action_fail(action=action, code=exc.code, message=exc.message, detail=exc.detail)
    except ProxmoxError as exc:
        if exc.is_transient:
            raise
        action_fail(
            action=action,
            code="proxmox_error",
            message=_("The operation failed. Our team has been notified."),
            detail=f"{type(exc).__name__}: {exc}\n" + "\n".join(getattr(exc, "log_tail", ())),
        )


# ---------------------------------------------------------------------------
# Proxmox helpers
# ---------------------------------------------------------------------------
def _upid_node(upid: str) -> str:
    return Upid.parse(upid).node


def _run_task(instance: Instance, key: str, driver: ProxmoxDriver, start: Callable[[], str | None]) -> None:
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
            driver.wait_task(_upid_node(upid), upid, timeout=TASK_WAIT_SECONDS)
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


def _vm_config(driver: ProxmoxDriver, instance: Instance) -> dict[str, Any] | None:
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


def _wait_unlocked(driver: ProxmoxDriver, instance: Instance, *, seconds: float = TASK_WAIT_SECONDS) -> None:
    """Wait until the VM's config has no ``lock`` (after a clone we did not see finish;
    docs/dev/proxmox-behaviour.md#lock-rule-wait-unlocked)."""
    deadline = time.monotonic() + seconds
    while True:
        config = _vm_config(driver, instance)
        if config is None:
            raise OperationFailed("vm_missing", _("The server could not be created."), "VM vanished while locked")
        if not config.get("lock"):
            return
        if time.monotonic() > deadline:
            raise OperationFailed("vm_locked", _("The server could not be created."), f"lock {config.get('lock')}")
        time.sleep(driver.task_poll_interval)


def _is_ours(config: dict[str, Any], instance: Instance) -> bool:
    return marker(instance) in str(config.get("description", ""))


def _power_state(driver: ProxmoxDriver, instance: Instance) -> str:
    assert instance.vmid is not None  # noqa: S101
    status = driver.status(instance.node_name, instance.vmid)
    if status.qmpstatus == "paused":
        return PowerState.PAUSED
    return PowerState.RUNNING if status.status == "running" else PowerState.STOPPED


def _ensure_stopped(driver: ProxmoxDriver, instance: Instance, key: str) -> None:
    """Shut the guest down cleanly before a resize, rollback or destroy; force it off only after a timeout.

    One ``status/shutdown`` task with ``forceStop=1`` and ``timeout``: PVE sends the
    ACPI power button, waits up to ``timeout`` seconds for the guest to power off
    (its filesystems flushed), and only then kills QEMU (qm(1) ``shutdown``:
    "--forceStop Make sure the VM stops"). A hard ``status/stop`` would pull the
    plug on a guest that could have shut down cleanly.
    """
    assert instance.vmid is not None  # noqa: S101
    if _power_state(driver, instance) != PowerState.STOPPED:
        timeout = int(getattr(settings, "INSTANCES_SHUTDOWN_TIMEOUT_SECONDS", 120))
        _run_task(
            instance,
            key,
            driver,
            lambda: driver.shutdown(instance.node_name, instance.vmid or 0, timeout=timeout, force_stop=True),
        )


def _ensure_started(driver: ProxmoxDriver, instance: Instance, key: str) -> None:
    if _power_state(driver, instance) != PowerState.RUNNING:
        # docs/dev/proxmox-behaviour.md#lock-rule-already-done: "already running" is success; the status check above
        # avoids asking.
        _run_task(instance, key, driver, lambda: driver.start(instance.node_name, instance.vmid or 0))


# ---------------------------------------------------------------------------
# Provisioning (create and rebuild)
# ---------------------------------------------------------------------------
def _set_step(instance: Instance, step: str) -> None:
    """Persist the next step, unless the instance left provisioning meanwhile (deleted): then re-read its status."""
    moved = Instance.objects.filter(
        pk=instance.pk, status__in=(InstanceStatus.PROVISIONING, InstanceStatus.REBUILDING)
    ).update(provision_step=step, updated_at=timezone.now())
    if moved:
        instance.provision_step = step
    else:
        instance.refresh_from_db(fields=["status", "provision_step"])


def _step_vmid(action: Action, instance: Instance, driver: ProxmoxDriver) -> None:
    assert instance.vmid is not None  # noqa: S101
    config = _vm_config(driver, instance)
    if config is not None and not _is_ours(config, instance):
        raise OperationFailed(
            "vmid_conflict",
            _("The server could not be created. Our team has been notified."),
            f"VMID {instance.vmid} is held by a VM that is not this instance's",
        )
    if config is None and not instance.clone_upid and not driver.next_free_vmid_check(instance.vmid):
        raise OperationFailed(
            "vmid_conflict", _("The server could not be created."), f"nextid says VMID {instance.vmid} is taken"
        )
    # Checked a moment ago: the clone step that follows in this run need not look again. (Were a VM
    # to appear in between, PVE would refuse the clone onto its VMID: nothing is ever overwritten.)
    instance._vm_absent = config is None  # type: ignore[attr-defined]
    _set_step(instance, ProvisionStep.CLONE)


def _step_clone(action: Action, instance: Instance, driver: ProxmoxDriver) -> None:
    assert instance.vmid is not None and instance.reservation is not None  # noqa: S101
    template = instance.template
    if template is None:
        raise OperationFailed("no_template", _("This image is not available."), "instance has no template")
    if instance.clone_upid:
        try:
            driver.wait_task(_upid_node(instance.clone_upid), instance.clone_upid, timeout=TASK_WAIT_SECONDS)
        except ProxmoxTaskFailed as exc:
            if exc.is_transient:
                # The clone never happened (lock timeout): forget it so the retry clones again.
                Instance.objects.filter(pk=instance.pk).update(clone_upid="")
            raise
        except ProxmoxNotFound:
            pass  # the task log is gone (node rebooted): the VM's own state decides below
    fresh = getattr(instance, "_vm_absent", False) and not instance.clone_upid
    config = None if fresh else _vm_config(driver, instance)
    if config is None:
        if instance.clone_upid and _clone_finished_ok(driver, instance):
            raise OperationFailed("vm_missing", _("The server could not be created."), "cloned VM disappeared")
        template_node = driver.locate(template.vmid)
        if template_node is None:
            raise OperationFailed("no_template", _("This image is not available."), f"template {template.vmid} gone")
        target = instance.reservation.node.name
        # Placement chose (and counted) this storage: a shared one whenever the clone crosses nodes.
        storage = instance.reservation.storage
        upid = driver.clone(
            template_node,
            template.vmid,
            instance.vmid,
            instance.name,
            full=True,
            target_storage=storage.name if storage else None,
            target_node=target if target != template_node else None,
            description=marker(instance),
        )
        # Persisted (committed: we run outside a transaction) before waiting on it.
        Instance.objects.filter(pk=instance.pk).update(clone_upid=upid)
        instance.clone_upid = upid
        driver.wait_task(_upid_node(upid), upid, timeout=TASK_WAIT_SECONDS)
    elif not _is_ours(config, instance):
        raise OperationFailed("vmid_conflict", _("The server could not be created."), "VMID taken by another VM")
    _wait_unlocked(driver, instance)
    _set_step(instance, ProvisionStep.CONFIGURE)


def _clone_finished_ok(driver: ProxmoxDriver, instance: Instance) -> bool:
    try:
        status = driver.task_status(_upid_node(instance.clone_upid), instance.clone_upid)
    except ProxmoxNotFound:
        return False
    return not status.running and status.ok


def _ipconfig(instance: Instance) -> str:
    pools = {
        alloc.address: alloc.pool
        for alloc in IpAllocation.objects.filter(reservation=instance.reservation).select_related("pool")
    }
    v4, v6 = pools.get(instance.ipv4 or ""), pools.get(instance.ipv6 or "")
    return ipconfig_spec(
        ip=f"{instance.ipv4}/{v4.network.prefixlen}" if v4 else None,
        gw=v4.gateway if v4 else None,
        ip6=f"{instance.ipv6}/{v6.network.prefixlen}" if v6 else None,
        gw6=v6.gateway if v6 else None,
    )


def _nameservers(instance: Instance) -> str | None:
    servers: list[str] = []
    for alloc in IpAllocation.objects.filter(reservation=instance.reservation).select_related("pool"):
        servers.extend(str(s) for s in alloc.pool.dns_servers or [])
    return " ".join(dict.fromkeys(servers)) or None


def vendor_snippet_name(instance: Instance) -> str:
    """The customer's user-data file on the cluster's snippets storage: one per instance, a fixed name."""
    return f"vmc-{instance.public_id}-vendor.yaml"


def _vendor_snippet_write(instance: Instance) -> str | None:
    """Write the instance's user-data as its vendor-data snippet; returns ``cicustom`` (None without user-data).

    Vendor-data, not user-data: cloud-init processes it the same way (cloud-config,
    scripts, MIME multipart) but PVE keeps generating the user-data that sets the
    hostname, the user, ``sshkeys`` and ``cipassword`` (qm(1) "Custom Cloud-Init
    Configuration"). Rewritten at each configure (a retry, a rebuild): same name, same content.
    """
    if not instance.user_data.strip():
        return None
    cluster = instance.cluster
    assert cluster is not None  # noqa: S101
    try:
        volume = snippet_write(cluster=cluster, filename=vendor_snippet_name(instance), content=instance.user_data)
    except Unavailable as exc:
        raise OperationFailed(
            "user_data_unavailable", exc.message, f"cluster {cluster.name} has no snippets storage"
        ) from exc
    except OSError as exc:
        raise OperationFailed(
            "user_data_write_failed", _("Your user-data could not be delivered."), f"snippet write: {exc}"
        ) from exc
    return f"vendor={volume}"


def _vendor_snippet_delete(instance: Instance) -> None:
    """Remove the vendor-data snippet (gone already or never written: fine)."""
    if instance.cluster is None:
        return
    try:
        snippet_delete(cluster=instance.cluster, filename=vendor_snippet_name(instance))
    except OSError as exc:
        # A stale file costs nothing and holds only what the customer gave: log it for staff, go on.
        logger.warning("instance %s: snippet not removed: %s", instance.pk, exc)


def _step_configure(action: Action, instance: Instance, driver: ProxmoxDriver) -> None:
    assert instance.vmid is not None  # noqa: S101
    offer = instance.offer
    ci_user = CI_USERS.get(instance.image.family.lower().split()[0], "admin") if instance.image.family else "admin"
    # docs/dev/proxmox-behaviour.md#provisioning-sequence step 6: size, q35/OVMF + hostpci mapping for GPUs
    # (driver.configure), cloud-init network and keys.
    cicustom = _vendor_snippet_write(instance)
    efidisk_storage = _efidisk_storage(_vm_config(driver, instance) or {}, gpu=bool(instance.gpu_mappings))
    _run_task(
        instance,
        "configure",
        driver,
        lambda: driver.configure(
            instance.node_name,
            instance.vmid or 0,
            cores=offer.vcpu or 1,
            sockets=1,
            memory_mb=(offer.ram_gb or 1) * 1024,
            balloon_mb=0 if instance.gpu_mappings else None,
            gpu_mappings=list(instance.gpu_mappings),
            ipconfigs=[_ipconfig(instance)],
            nameserver=_nameservers(instance),
            ci_user=ci_user,
            ssh_keys=list(instance.ssh_keys),
            tags=[f"org-{instance.organisation_id}", "gpu" if instance.gpu_mappings else "vps"],
            description=marker(instance),
            onboot=True,
            agent=True,
            cicustom=cicustom,
            efidisk_storage=efidisk_storage,
        ),
    )
    _set_step(instance, ProvisionStep.RESIZE)


def _efidisk_storage(config: dict[str, Any], *, gpu: bool) -> str | None:
    """Where to add a persistent EFI disk: the boot disk's storage, for an OVMF VM that has none.

    GPU VMs always boot OVMF. Without ``efidisk0`` PVE starts them with a temporary
    copy of the EFI variables ("no efidisk configured! Using temporary efivars
    disk.", the start task ends WARNINGS) and forgets boot entries at every stop
    (docs page proxmox-simulator, "EFI disks").
    """
    if config.get("efidisk0") or not (gpu or str(config.get("bios", "")) == "ovmf"):
        return None
    disk = _boot_disk(config)
    if disk is None:
        return None
    volume = str(config.get(disk[0], ""))
    return volume.split(":", 1)[0] if ":" in volume else None


def _boot_disk(config: dict[str, Any]) -> tuple[str, int] | None:
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


def _step_resize(action: Action, instance: Instance, driver: ProxmoxDriver) -> None:
    target = instance.offer.disk_gb or 0
    config = _vm_config(driver, instance) or {}
    disk = _boot_disk(config)
    if disk is not None and target > disk[1]:
        _run_task(
            instance,
            f"resize-{target}",
            driver,
            lambda: driver.resize_disk(instance.node_name, instance.vmid or 0, disk[0], target),
        )
    _set_step(instance, ProvisionStep.START)


def _step_start(action: Action, instance: Instance, driver: ProxmoxDriver) -> None:
    _ensure_started(driver, instance, "start")
    _set_step(instance, ProvisionStep.NETWORK)


def _step_network(action: Action, instance: Instance, driver: ProxmoxDriver) -> None:
    """Wait for the guest agent (the guest booted) and check it reports our address; never fail on it."""
    wait = float(getattr(settings, "INSTANCES_GUEST_AGENT_WAIT_SECONDS", 300))
    deadline = time.monotonic() + wait
    while True:
        try:
            if driver.guest_ping(instance.node_name, instance.vmid or 0):
                seen = {
                    addr.address
                    for iface in driver.guest_network(instance.node_name, instance.vmid or 0)
                    for addr in iface.ip_addresses
                }
                if instance.ipv4 and instance.ipv4 not in seen:
                    logger.warning("instance %s: guest reports %s, not %s", instance.pk, sorted(seen), instance.ipv4)
                break
        except ProxmoxError as exc:
            if exc.is_transient:
                raise
            logger.info("instance %s: guest agent not answering yet: %s", instance.pk, exc)
        if time.monotonic() > deadline:
            logger.warning("instance %s: guest agent never answered; the VM runs", instance.pk)
            break
        time.sleep(2.0)
    _set_step(instance, ProvisionStep.DONE)


STEPS: dict[str, Callable[[Action, Instance, ProxmoxDriver], None]] = {
    ProvisionStep.VMID: _step_vmid,
    ProvisionStep.CLONE: _step_clone,
    ProvisionStep.CONFIGURE: _step_configure,
    ProvisionStep.RESIZE: _step_resize,
    ProvisionStep.START: _step_start,
    ProvisionStep.NETWORK: _step_network,
}


def provision_run(*, action: Action) -> None:
    """Run the provisioning steps from the persisted one to ``done``; the instance ends ``running``."""
    instance = action.instance
    assert instance is not None  # noqa: S101
    driver = _driver(instance)
    base = action.progress if action.type == ActionType.REBUILD else 0
    # Only the step fields: a full refresh would also drop the cached offer, image and reservation.
    # The steps keep the object in step with what they write (``_set_step``, ``_run_task``).
    instance.refresh_from_db(
        fields=["status", "provision_step", "clone_upid", "current_upid", "current_upid_step", "node_name"]
    )
    while True:
        step = instance.provision_step
        if instance.status not in (InstanceStatus.PROVISIONING, InstanceStatus.REBUILDING):
            logger.info("instance %s: provisioning stopped (%s)", instance.pk, instance.status)
            return
        if step == ProvisionStep.DONE:
            break
        # One conditional UPDATE: record progress, and stop if the action was cancelled (a delete).
        progress = base + (100 - base) * choices.STEP_PROGRESS[ProvisionStep(step)] // 100
        if not Action.objects.filter(pk=action.pk, status=ActionStatus.RUNNING).update(progress=min(100, progress)):
            logger.info("instance %s: provisioning stopped (action %s no longer running)", instance.pk, action.pk)
            return
        STEPS[step](action, instance, driver)
    if instance.reservation is not None:
        placement_commit(reservation=instance.reservation)
    _finish(
        action,
        to=InstanceStatus.RUNNING,
        power_state=PowerState.RUNNING,
        running_since=timezone.now(),
        power_checked_at=timezone.now(),
        error_message="",
        error_detail="",
    )


# ---------------------------------------------------------------------------
# Lifecycle executors
# ---------------------------------------------------------------------------
def _key(action: Action, part: str) -> str:
    return f"a{action.pk}-{part}"


def _exec_power(action: Action) -> None:
    instance = action.instance
    assert instance is not None  # noqa: S101
    driver = _driver(instance)
    node, vmid = instance.node_name, instance.vmid or 0
    starts: dict[str, Callable[[], str | None]] = {
        ActionType.START: lambda: driver.start(node, vmid),
        ActionType.STOP: lambda: driver.stop(node, vmid),
        ActionType.SHUTDOWN: lambda: driver.shutdown(node, vmid, timeout=120, force_stop=True),
        ActionType.REBOOT: lambda: driver.reboot(node, vmid, timeout=120),
        ActionType.RESET: lambda: driver.reset(node, vmid),
    }
    _progress(action, 20)
    if action.type == ActionType.START and _power_state(driver, instance) == PowerState.RUNNING:
        pass  # already running: success (docs/dev/proxmox-behaviour.md#lock-rule-already-done)
    else:
        _run_task(instance, _key(action, "power"), driver, starts[action.type])
    after = choices.POWER_ACTIONS[action.type][2]
    power = PowerState.RUNNING if after == InstanceStatus.RUNNING else PowerState.STOPPED
    extra: dict[str, Any] = {"power_state": power, "power_checked_at": timezone.now()}
    if after == InstanceStatus.RUNNING and action.type == ActionType.START:
        extra["running_since"] = timezone.now()
    _finish(action, to=after, **extra)


def _exec_resize(action: Action) -> None:
    instance = action.instance
    assert instance is not None  # noqa: S101
    driver = _driver(instance)
    offer = Offer.objects.get(pk=action.params["offer_id"])
    _progress(action, 10)
    _ensure_stopped(driver, instance, _key(action, "stop"))
    _progress(action, 40)
    _run_task(
        instance,
        _key(action, "config"),
        driver,
        lambda: driver.update_config(
            instance.node_name, instance.vmid or 0, {"cores": offer.vcpu, "memory": (offer.ram_gb or 1) * 1024}
        ),
    )
    config = _vm_config(driver, instance) or {}
    disk = _boot_disk(config)
    if disk is not None and (offer.disk_gb or 0) > disk[1]:
        _run_task(
            instance,
            _key(action, "disk"),
            driver,
            lambda: driver.resize_disk(instance.node_name, instance.vmid or 0, disk[0], offer.disk_gb or 0),
        )
    _progress(action, 70)
    was_running = bool(action.params.get("was_running"))
    if was_running:
        _ensure_started(driver, instance, _key(action, "start"))
    _finish(
        action,
        to=InstanceStatus.RUNNING if was_running else InstanceStatus.STOPPED,
        offer=offer,
        # The prices frozen when the resize was asked for (older actions lack them: the offer's).
        price_hourly=Decimal(action.params.get("price_hourly") or offer.price_hourly),
        price_monthly=Decimal(action.params.get("price_monthly") or offer.price_monthly),
        power_state=PowerState.RUNNING if was_running else PowerState.STOPPED,
    )


def _destroy_vm(action: Action, instance: Instance, driver: ProxmoxDriver) -> None:
    """Stop and destroy the instance's VM if it exists (waiting for an unfinished clone first)."""
    config = _vm_config(driver, instance)
    if config is None:
        return
    if config.get("lock"):
        _wait_unlocked(driver, instance)
    if not _is_ours(config, instance):
        raise OperationFailed("vmid_conflict", _("The server could not be deleted."), "VM at our VMID is not ours")
    _ensure_stopped(driver, instance, _key(action, "stop"))
    _run_task(instance, _key(action, "destroy"), driver, lambda: driver.delete(instance.node_name, instance.vmid or 0))
    _vendor_snippet_delete(instance)


def _exec_rebuild(action: Action) -> None:
    instance = action.instance
    assert instance is not None  # noqa: S101
    driver = _driver(instance)
    if action.params.get("phase") != "destroyed":
        _progress(action, 10)
        _destroy_vm(action, instance, driver)
        params = {**action.params, "phase": "destroyed"}
        Action.objects.filter(pk=action.pk).update(params=params)
        action.params = params
        image = OsImage.objects.get(pk=params["image_id"])
        Instance.objects.filter(pk=instance.pk).update(
            image=image,
            template=VmTemplate.objects.get(pk=params["template_id"]),
            provision_step=ProvisionStep.CLONE,
            clone_upid="",
            current_upid="",
            current_upid_step="",
        )
        _progress(action, 30)
        action.progress = 30
        instance.refresh_from_db()  # the new image and template (provision_run refreshes only step fields)
    provision_run(action=action)


def _exec_reset_password(action: Action) -> None:
    instance = action.instance
    assert instance is not None  # noqa: S101
    driver = _driver(instance)
    password_hash = action.params.get("password_hash")
    if password_hash:
        _run_task(
            instance,
            _key(action, "config"),
            driver,
            lambda: driver.update_config(instance.node_name, instance.vmid or 0, {"cipassword": password_hash}),
        )
        # The hash is no longer needed once Proxmox holds it.
        params = {k: v for k, v in action.params.items() if k != "password_hash"}
        Action.objects.filter(pk=action.pk).update(params=params, progress=50)
    if action.params.get("was_running"):
        # cloud-init applies the new password at boot (qm(1) "cloud-init"): reboot a running VM.
        _run_task(
            instance, _key(action, "reboot"), driver, lambda: driver.reboot(instance.node_name, instance.vmid or 0)
        )
    _finish(action)


def _exec_snapshot_create(action: Action) -> None:
    instance = action.instance
    assert instance is not None  # noqa: S101
    driver = _driver(instance)
    snapshot = Snapshot.objects.get(pk=action.params["snapshot_id"])
    existing = {s.name for s in driver.snapshots(instance.node_name, instance.vmid or 0)}
    if snapshot.proxmox_name not in existing:
        _run_task(
            instance,
            _key(action, "snap"),
            driver,
            lambda: driver.snapshot_create(
                instance.node_name, instance.vmid or 0, snapshot.proxmox_name, snapshot.name
            ),
        )
    Snapshot.objects.filter(pk=snapshot.pk).update(status=choices.SnapshotStatus.AVAILABLE)
    if snapshot.scheduled:
        _prune_scheduled(action, instance, driver, keep_id=snapshot.pk)
    _finish(action)


def _snapshot_deleter(driver: ProxmoxDriver, instance: Instance, snapshot: Snapshot) -> Callable[[], str | None]:
    return lambda: driver.snapshot_delete(instance.node_name, instance.vmid or 0, snapshot.proxmox_name)


def _prune_scheduled(action: Action, instance: Instance, driver: ProxmoxDriver, *, keep_id: int) -> None:
    """Delete the oldest scheduled snapshots beyond the schedule's retention (manual ones are never pruned)."""
    retention = SnapshotSchedule.objects.filter(instance=instance).values_list("retention", flat=True).first()
    if retention is None:
        return
    newest_first = instance.snapshots.filter(scheduled=True, status=choices.SnapshotStatus.AVAILABLE).order_by(
        "-created_at", "-id"
    )
    extra = [snap for snap in newest_first if snap.pk != keep_id][max(0, retention - 1) :]
    if not extra:
        return
    existing = {s.name for s in driver.snapshots(instance.node_name, instance.vmid or 0)}
    for old in extra:
        Snapshot.objects.filter(pk=old.pk).update(status=choices.SnapshotStatus.DELETING)
        if old.proxmox_name in existing:
            _run_task(instance, _key(action, f"prune-{old.pk}"), driver, _snapshot_deleter(driver, instance, old))
        Snapshot.objects.filter(pk=old.pk).update(status=choices.SnapshotStatus.DELETED, deleted_at=timezone.now())


def _exec_snapshot_rollback(action: Action) -> None:
    instance = action.instance
    assert instance is not None  # noqa: S101
    driver = _driver(instance)
    snapshot = Snapshot.objects.get(pk=action.params["snapshot_id"])
    _ensure_stopped(driver, instance, _key(action, "stop"))
    _progress(action, 30)
    _run_task(
        instance,
        _key(action, "rollback"),
        driver,
        lambda: driver.snapshot_rollback(instance.node_name, instance.vmid or 0, snapshot.proxmox_name),
    )
    if action.params.get("was_running"):
        _ensure_started(driver, instance, _key(action, "start"))
        _finish(action, to=InstanceStatus.RUNNING, power_state=PowerState.RUNNING)
    else:
        _finish(action, to=InstanceStatus.STOPPED, power_state=PowerState.STOPPED)


def _exec_snapshot_delete(action: Action) -> None:
    instance = action.instance
    assert instance is not None  # noqa: S101
    driver = _driver(instance)
    snapshot = Snapshot.objects.get(pk=action.params["snapshot_id"])
    existing = {s.name for s in driver.snapshots(instance.node_name, instance.vmid or 0)}
    if snapshot.proxmox_name in existing:
        _run_task(
            instance,
            _key(action, "delsnap"),
            driver,
            lambda: driver.snapshot_delete(instance.node_name, instance.vmid or 0, snapshot.proxmox_name),
        )
    Snapshot.objects.filter(pk=snapshot.pk).update(status=choices.SnapshotStatus.DELETED, deleted_at=timezone.now())
    _finish(action)


def _exec_delete(action: Action) -> None:
    instance = action.instance
    assert instance is not None  # noqa: S101
    if instance.cluster is not None and instance.vmid is not None:
        driver = _driver(instance)
        _progress(action, 20)
        _destroy_vm(action, instance, driver)
    _vendor_snippet_delete(instance)  # also when the VM was already gone
    _progress(action, 80)
    # docs/dev/proxmox-behaviour.md#vmid-allocation: free the VMID (and GPUs, IPs) only after a successful destroy.
    if instance.reservation is not None:
        placement_release(reservation=instance.reservation)
    Snapshot.objects.filter(instance=instance).exclude(status=choices.SnapshotStatus.DELETED).update(
        status=choices.SnapshotStatus.DELETED, deleted_at=timezone.now()
    )
    schedule_remove(instance=instance)  # normally gone already (instance_delete); idempotent
    _finish(action, to=InstanceStatus.DELETED, power_state=PowerState.STOPPED, deleted_at=timezone.now())


EXECUTORS: dict[str, Callable[[Action], None]] = {
    ActionType.START: _exec_power,
    ActionType.STOP: _exec_power,
    ActionType.SHUTDOWN: _exec_power,
    ActionType.REBOOT: _exec_power,
    ActionType.RESET: _exec_power,
    ActionType.RESIZE: _exec_resize,
    ActionType.REBUILD: _exec_rebuild,
    ActionType.RESET_PASSWORD: _exec_reset_password,
    ActionType.SNAPSHOT_CREATE: _exec_snapshot_create,
    ActionType.SNAPSHOT_ROLLBACK: _exec_snapshot_rollback,
    ActionType.SNAPSHOT_DELETE: _exec_snapshot_delete,
    ActionType.DELETE: _exec_delete,
}
