"""The worker side of every Action: claim it, run its executor against Proxmox, end it in success or error.

Called by the thin Celery tasks (``tasks.py``) with an action id:

* a task first *claims* the action with a conditional UPDATE (free, its own
  Celery id after a redelivery, or an expired lease); 0 rows: someone else
  has it, return (docs/dev/style.md#celery-tasks);
* ``action_execute`` runs the executor of the action's type: ``create`` is
  ``provisioning.provision_run``, the others are below (power, resize,
  rebuild, password, snapshots, delete);
* transient driver errors propagate to the task, which retries with backoff;
  anything else fails the action with a customer message and a staff detail
  (``action_fail``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalogue.models import Offer, OsImage
from apps.core.services import audit_record
from apps.infrastructure.models import VmTemplate
from apps.infrastructure.proxmox import ProxmoxDriver, ProxmoxError
from apps.infrastructure.services import placement_release
from apps.instances import choices
from apps.instances.choices import ActionStatus, ActionType, InstanceStatus, PowerState, ProvisionStep
from apps.instances.models import Action, Instance, Snapshot, SnapshotSchedule
from apps.instances.services.access import lease_seconds
from apps.instances.services.lifecycle import instance_transition
from apps.instances.services.provisioning import provision_run, vendor_snippet_delete
from apps.instances.services.runner import (
    OperationFailed,
    action_finish,
    action_progress,
    boot_disk,
    proxmox_task_run,
    step_key,
    vm_config,
    vm_driver,
    vm_ensure_started,
    vm_ensure_stopped,
    vm_is_ours,
    vm_power_state,
    vm_wait_unlocked,
)
from apps.instances.services.snapshots import schedule_remove


# ---------------------------------------------------------------------------
# Claiming, running, failing
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
# Lifecycle executors
# ---------------------------------------------------------------------------
def _exec_power(action: Action) -> None:
    instance = action.instance
    assert instance is not None  # noqa: S101
    driver = vm_driver(instance)
    node, vmid = instance.node_name, instance.vmid or 0
    starts: dict[str, Callable[[], str | None]] = {
        ActionType.START: lambda: driver.start(node, vmid),
        ActionType.STOP: lambda: driver.stop(node, vmid),
        ActionType.SHUTDOWN: lambda: driver.shutdown(node, vmid, timeout=120, force_stop=True),
        ActionType.REBOOT: lambda: driver.reboot(node, vmid, timeout=120),
        ActionType.RESET: lambda: driver.reset(node, vmid),
    }
    action_progress(action, 20)
    if action.type == ActionType.START and vm_power_state(driver, instance) == PowerState.RUNNING:
        pass  # already running: success (docs/dev/proxmox-behaviour.md#lock-rule-already-done)
    else:
        proxmox_task_run(instance, step_key(action, "power"), driver, starts[action.type])
    after = choices.POWER_ACTIONS[action.type][2]
    power = PowerState.RUNNING if after == InstanceStatus.RUNNING else PowerState.STOPPED
    extra: dict[str, Any] = {"power_state": power, "power_checked_at": timezone.now()}
    if after == InstanceStatus.RUNNING and action.type == ActionType.START:
        extra["running_since"] = timezone.now()
    action_finish(action, to=after, **extra)


def _exec_resize(action: Action) -> None:
    instance = action.instance
    assert instance is not None  # noqa: S101
    driver = vm_driver(instance)
    offer = Offer.objects.get(pk=action.params["offer_id"])
    action_progress(action, 10)
    vm_ensure_stopped(driver, instance, step_key(action, "stop"))
    action_progress(action, 40)
    proxmox_task_run(
        instance,
        step_key(action, "config"),
        driver,
        lambda: driver.update_config(
            instance.node_name, instance.vmid or 0, {"cores": offer.vcpu, "memory": (offer.ram_gb or 1) * 1024}
        ),
    )
    config = vm_config(driver, instance) or {}
    disk = boot_disk(config)
    if disk is not None and (offer.disk_gb or 0) > disk[1]:
        proxmox_task_run(
            instance,
            step_key(action, "disk"),
            driver,
            lambda: driver.resize_disk(instance.node_name, instance.vmid or 0, disk[0], offer.disk_gb or 0),
        )
    action_progress(action, 70)
    was_running = bool(action.params.get("was_running"))
    if was_running:
        vm_ensure_started(driver, instance, step_key(action, "start"))
    action_finish(
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
    config = vm_config(driver, instance)
    if config is None:
        return
    if config.get("lock"):
        vm_wait_unlocked(driver, instance)
    if not vm_is_ours(config, instance):
        raise OperationFailed("vmid_conflict", _("The server could not be deleted."), "VM at our VMID is not ours")
    vm_ensure_stopped(driver, instance, step_key(action, "stop"))
    proxmox_task_run(
        instance, step_key(action, "destroy"), driver, lambda: driver.delete(instance.node_name, instance.vmid or 0)
    )
    vendor_snippet_delete(instance)


def _exec_rebuild(action: Action) -> None:
    instance = action.instance
    assert instance is not None  # noqa: S101
    driver = vm_driver(instance)
    if action.params.get("phase") != "destroyed":
        action_progress(action, 10)
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
        action_progress(action, 30)
        action.progress = 30
        instance.refresh_from_db()  # the new image and template (provision_run refreshes only step fields)
    provision_run(action=action)


def _exec_reset_password(action: Action) -> None:
    instance = action.instance
    assert instance is not None  # noqa: S101
    driver = vm_driver(instance)
    password_hash = action.params.get("password_hash")
    if password_hash:
        proxmox_task_run(
            instance,
            step_key(action, "config"),
            driver,
            lambda: driver.update_config(instance.node_name, instance.vmid or 0, {"cipassword": password_hash}),
        )
        # The hash is no longer needed once Proxmox holds it.
        params = {k: v for k, v in action.params.items() if k != "password_hash"}
        Action.objects.filter(pk=action.pk).update(params=params, progress=50)
    if action.params.get("was_running"):
        # cloud-init applies the new password at boot (qm(1) "cloud-init"): reboot a running VM.
        proxmox_task_run(
            instance, step_key(action, "reboot"), driver, lambda: driver.reboot(instance.node_name, instance.vmid or 0)
        )
    action_finish(action)


def _exec_snapshot_create(action: Action) -> None:
    instance = action.instance
    assert instance is not None  # noqa: S101
    driver = vm_driver(instance)
    snapshot = Snapshot.objects.get(pk=action.params["snapshot_id"])
    existing = {s.name for s in driver.snapshots(instance.node_name, instance.vmid or 0)}
    if snapshot.proxmox_name not in existing:
        proxmox_task_run(
            instance,
            step_key(action, "snap"),
            driver,
            lambda: driver.snapshot_create(
                instance.node_name, instance.vmid or 0, snapshot.proxmox_name, snapshot.name
            ),
        )
    Snapshot.objects.filter(pk=snapshot.pk).update(status=choices.SnapshotStatus.AVAILABLE)
    if snapshot.scheduled:
        _prune_scheduled(action, instance, driver, keep_id=snapshot.pk)
    action_finish(action)


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
            proxmox_task_run(
                instance, step_key(action, f"prune-{old.pk}"), driver, _snapshot_deleter(driver, instance, old)
            )
        Snapshot.objects.filter(pk=old.pk).update(status=choices.SnapshotStatus.DELETED, deleted_at=timezone.now())


def _exec_snapshot_rollback(action: Action) -> None:
    instance = action.instance
    assert instance is not None  # noqa: S101
    driver = vm_driver(instance)
    snapshot = Snapshot.objects.get(pk=action.params["snapshot_id"])
    vm_ensure_stopped(driver, instance, step_key(action, "stop"))
    action_progress(action, 30)
    proxmox_task_run(
        instance,
        step_key(action, "rollback"),
        driver,
        lambda: driver.snapshot_rollback(instance.node_name, instance.vmid or 0, snapshot.proxmox_name),
    )
    if action.params.get("was_running"):
        vm_ensure_started(driver, instance, step_key(action, "start"))
        action_finish(action, to=InstanceStatus.RUNNING, power_state=PowerState.RUNNING)
    else:
        action_finish(action, to=InstanceStatus.STOPPED, power_state=PowerState.STOPPED)


def _exec_snapshot_delete(action: Action) -> None:
    instance = action.instance
    assert instance is not None  # noqa: S101
    driver = vm_driver(instance)
    snapshot = Snapshot.objects.get(pk=action.params["snapshot_id"])
    existing = {s.name for s in driver.snapshots(instance.node_name, instance.vmid or 0)}
    if snapshot.proxmox_name in existing:
        proxmox_task_run(
            instance,
            step_key(action, "delsnap"),
            driver,
            lambda: driver.snapshot_delete(instance.node_name, instance.vmid or 0, snapshot.proxmox_name),
        )
    Snapshot.objects.filter(pk=snapshot.pk).update(status=choices.SnapshotStatus.DELETED, deleted_at=timezone.now())
    action_finish(action)


def _exec_delete(action: Action) -> None:
    instance = action.instance
    assert instance is not None  # noqa: S101
    if instance.cluster is not None and instance.vmid is not None:
        driver = vm_driver(instance)
        action_progress(action, 20)
        _destroy_vm(action, instance, driver)
    vendor_snippet_delete(instance)  # also when the VM was already gone
    action_progress(action, 80)
    # docs/dev/proxmox-behaviour.md#vmid-allocation: free the VMID (and GPUs, IPs) only after a successful destroy.
    if instance.reservation is not None:
        placement_release(reservation=instance.reservation)
    Snapshot.objects.filter(instance=instance).exclude(status=choices.SnapshotStatus.DELETED).update(
        status=choices.SnapshotStatus.DELETED, deleted_at=timezone.now()
    )
    schedule_remove(instance=instance)  # normally gone already (instance_delete); idempotent
    action_finish(action, to=InstanceStatus.DELETED, power_state=PowerState.STOPPED, deleted_at=timezone.now())


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
