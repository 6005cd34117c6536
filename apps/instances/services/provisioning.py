"""Building a server's VM step by step, and resuming where a killed worker left off (create and rebuild).

``provision_run`` runs the steps from the one persisted on the instance
(``Instance.provision_step``: vmid → clone → configure → resize → start →
network → done), so a retried or redelivered task resumes the same work
(docs/dev/style.md#celery-tasks). What one step learns for the next in the
same run travels in a ``ProvisionRun``, never on the model. Rules, relying on
``docs/dev/proxmox-behaviour.md``:

* before cloning, the VMID is looked up in the cluster: a VM carrying this
  instance's marker is ours (a crash between the clone POST and saving its
  UPID) and is adopted; any other VM there is a conflict, never overwritten
  (docs/dev/proxmox-behaviour.md#vmid-allocation). So a killed worker never
  makes a second VM;
* the clone's UPID is saved before it is waited on; configuring and starting
  go through ``runner.proxmox_task_run``;
* the customer's user-data is written as a vendor-data snippet on the
  cluster's snippets storage (``vendor_snippet_write``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import Unavailable
from apps.infrastructure.models import IpAllocation
from apps.infrastructure.proxmox import ProxmoxDriver, ProxmoxError
from apps.infrastructure.proxmox.driver import ipconfig_spec
from apps.infrastructure.proxmox.errors import ProxmoxNotFound, ProxmoxTaskFailed
from apps.infrastructure.services import placement_commit, snippet_delete, snippet_write
from apps.instances import choices
from apps.instances.choices import ActionStatus, ActionType, InstanceStatus, PowerState, ProvisionStep
from apps.instances.models import Action, Instance
from apps.instances.services.guest_network import guest_extra_addresses, guest_network_sync
from apps.instances.services.runner import (
    TASK_WAIT_SECONDS,
    OperationFailed,
    action_finish,
    boot_disk,
    marker,
    proxmox_task_run,
    upid_node,
    vm_config,
    vm_driver,
    vm_ensure_started,
    vm_is_ours,
    vm_wait_unlocked,
)

logger = logging.getLogger(__name__)

CI_USERS = {"ubuntu": "ubuntu", "debian": "debian", "rocky": "rocky", "almalinux": "almalinux", "fedora": "fedora"}


@dataclass
class ProvisionRun:
    """One run of ``provision_run``: the action, its instance, the cluster's client, and what a step found."""

    action: Action
    instance: Instance
    driver: ProxmoxDriver
    # The VMID step found no VM at the instance's VMID a moment ago: the clone step need not look again.
    vm_absent: bool = False


def _set_step(instance: Instance, step: str) -> None:
    """Persist the next step, unless the instance left provisioning meanwhile (deleted): then re-read its status."""
    moved = Instance.objects.filter(
        pk=instance.pk, status__in=(InstanceStatus.PROVISIONING, InstanceStatus.REBUILDING)
    ).update(provision_step=step, updated_at=timezone.now())
    if moved:
        instance.provision_step = step
    else:
        instance.refresh_from_db(fields=["status", "provision_step"])


def _step_vmid(run: ProvisionRun) -> None:
    instance, driver = run.instance, run.driver
    assert instance.vmid is not None  # noqa: S101
    config = vm_config(driver, instance)
    if config is not None and not vm_is_ours(config, instance):
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
    run.vm_absent = config is None
    _set_step(instance, ProvisionStep.CLONE)


def _step_clone(run: ProvisionRun) -> None:
    instance, driver = run.instance, run.driver
    assert instance.vmid is not None and instance.reservation is not None  # noqa: S101
    template = instance.template
    if template is None:
        raise OperationFailed("no_template", _("This image is not available."), "instance has no template")
    if instance.clone_upid:
        try:
            driver.wait_task(upid_node(instance.clone_upid), instance.clone_upid, timeout=TASK_WAIT_SECONDS)
        except ProxmoxTaskFailed as exc:
            if exc.is_transient:
                # The clone never happened (lock timeout): forget it so the retry clones again.
                Instance.objects.filter(pk=instance.pk).update(clone_upid="")
            raise
        except ProxmoxNotFound:
            pass  # the task log is gone (node rebooted): the VM's own state decides below
    fresh = run.vm_absent and not instance.clone_upid
    config = None if fresh else vm_config(driver, instance)
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
        driver.wait_task(upid_node(upid), upid, timeout=TASK_WAIT_SECONDS)
    elif not vm_is_ours(config, instance):
        raise OperationFailed("vmid_conflict", _("The server could not be created."), "VMID taken by another VM")
    vm_wait_unlocked(driver, instance)
    _set_step(instance, ProvisionStep.CONFIGURE)


def _clone_finished_ok(driver: ProxmoxDriver, instance: Instance) -> bool:
    try:
        status = driver.task_status(upid_node(instance.clone_upid), instance.clone_upid)
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


def vendor_snippet_write(instance: Instance) -> str | None:
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


def vendor_snippet_delete(instance: Instance) -> None:
    """Remove the vendor-data snippet (gone already or never written: fine)."""
    if instance.cluster is None:
        return
    try:
        snippet_delete(cluster=instance.cluster, filename=vendor_snippet_name(instance))
    except OSError as exc:
        # A stale file costs nothing and holds only what the customer gave: log it for staff, go on.
        logger.warning("instance %s: snippet not removed: %s", instance.pk, exc)


def _step_configure(run: ProvisionRun) -> None:
    instance, driver = run.instance, run.driver
    assert instance.vmid is not None  # noqa: S101
    offer = instance.offer
    ci_user = CI_USERS.get(instance.image.family.lower().split()[0], "admin") if instance.image.family else "admin"
    # docs/dev/proxmox-behaviour.md#provisioning-sequence step 6: size, q35/OVMF + hostpci mapping for GPUs
    # (driver.configure), cloud-init network and keys.
    cicustom = vendor_snippet_write(instance)
    efidisk_storage = _efidisk_storage(vm_config(driver, instance) or {}, gpu=bool(instance.gpu_mappings))
    proxmox_task_run(
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
    if guest_extra_addresses(instance):
        # A rebuilt server keeps its floating IPs: its first boot's network-config carries them
        # (docs/dev/proxmox-behaviour.md#cloudinit-network).
        guest_network_sync(driver=driver, server=instance)
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
    disk = boot_disk(config)
    if disk is None:
        return None
    volume = str(config.get(disk[0], ""))
    return volume.split(":", 1)[0] if ":" in volume else None


def _step_resize(run: ProvisionRun) -> None:
    instance, driver = run.instance, run.driver
    target = instance.offer.disk_gb or 0
    config = vm_config(driver, instance) or {}
    disk = boot_disk(config)
    if disk is not None and target > disk[1]:
        proxmox_task_run(
            instance,
            f"resize-{target}",
            driver,
            lambda: driver.resize_disk(instance.node_name, instance.vmid or 0, disk[0], target),
        )
    _set_step(instance, ProvisionStep.START)


def _step_start(run: ProvisionRun) -> None:
    instance, driver = run.instance, run.driver
    vm_ensure_started(driver, instance, "start")
    _set_step(instance, ProvisionStep.NETWORK)


def _step_network(run: ProvisionRun) -> None:
    """Wait for the guest agent (the guest booted) and check it reports our address; never fail on it."""
    instance, driver = run.instance, run.driver
    wait = float(settings.INSTANCES_GUEST_AGENT_WAIT_SECONDS)
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


STEPS: dict[str, Callable[[ProvisionRun], None]] = {
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
    driver = vm_driver(instance)
    base = action.progress if action.type == ActionType.REBUILD else 0
    # Only the step fields: a full refresh would also drop the cached offer, image and reservation.
    # The steps keep the object in step with what they write (``_set_step``, ``proxmox_task_run``).
    instance.refresh_from_db(
        fields=["status", "provision_step", "clone_upid", "current_upid", "current_upid_step", "node_name"]
    )
    run = ProvisionRun(action=action, instance=instance, driver=driver)
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
        STEPS[step](run)
    if instance.reservation is not None:
        placement_commit(reservation=instance.reservation)
    action_finish(
        action,
        to=InstanceStatus.RUNNING,
        power_state=PowerState.RUNNING,
        running_since=timezone.now(),
        power_checked_at=timezone.now(),
        error_message="",
        error_detail="",
    )
