"""Reconciliation: pull the truth back from Proxmox and repair or flag drift (docs/dev/style.md#external-systems).

Run every few minutes by ``instances.reconcile`` (``CELERY_BEAT_SCHEDULE``):

* power drift of idle instances is fixed (a guest that shut itself down is
  ``stopped``), with a resolved ``Drift`` row kept as a trace;
* a VM of the platform's VMID range unknown to the platform is an *orphan*,
  an idle instance whose VM is gone is *missing*: both open a ``Drift`` for
  staff (the missing instance also goes to ``error``);
* an operation stuck past ``INSTANCES_STUCK_AFTER_SECONDS`` with no live task
  lease is failed, and the reservation of an instance without a VM released;
* a VM that Proxmox reports with status ``unknown`` is not stopped: its node
  is asked directly (``status/current``). If the node answers, that is the
  truth; if it cannot be reached (595/596), the instance is marked "host
  unreachable" (customer and staff see it, an ``unreachable`` Drift alerts
  staff) and nothing else about it changes until the node answers again.

Also the staff actions on drift rows: ``drift_adopt`` (an orphan acknowledged as known: kept,
VMID blocked, tagged), ``drift_quarantine`` (an orphan stopped and tagged in
Proxmox), ``drift_repair`` (a missing VM's instance left in error for the
customer with its resources released) and ``drift_resolve`` (bookkeeping).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.actors import Actor
from apps.core.errors import Conflict, ValidationFailed
from apps.core.services import audit_record
from apps.infrastructure import choices as infra_choices
from apps.infrastructure.models import Cluster
from apps.infrastructure.proxmox import ProxmoxError
from apps.infrastructure.proxmox.errors import ProxmoxNotFound
from apps.infrastructure.services import placement_release, vmid_block
from apps.instances import choices
from apps.instances.choices import DriftKind, DriftStatus, InstanceStatus, PowerState
from apps.instances.models import Action, Drift, Instance, Snapshot
from apps.instances.services.access import instance_driver
from apps.instances.services.lifecycle import instance_billing_stop, instance_transition
from apps.instances.services.snapshots import schedule_remove

logger = logging.getLogger(__name__)

STEADY = (InstanceStatus.RUNNING, InstanceStatus.STOPPED)
BUSY = (
    InstanceStatus.PROVISIONING,
    InstanceStatus.REBOOTING,
    InstanceStatus.RESIZING,
    InstanceStatus.REBUILDING,
    InstanceStatus.DELETING,
)


def _stuck_after() -> timedelta:
    return timedelta(seconds=int(settings.INSTANCES_STUCK_AFTER_SECONDS))


def reconcile_all() -> dict[str, int]:
    totals: dict[str, int] = {}
    for cluster in Cluster.objects.filter(status=infra_choices.ClusterStatus.ACTIVE):
        try:
            counts = reconcile_cluster(cluster=cluster)
        except ProxmoxError as exc:
            logger.warning("reconcile of %s failed: %s", cluster.name, exc)
            continue
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    return totals


def _flag(
    *, cluster: Cluster, vmid: int, kind: str, node: str = "", instance: Instance | None = None, **details: Any
) -> Drift:
    now = timezone.now()
    drift, created = Drift.objects.get_or_create(
        cluster=cluster,
        vmid=vmid,
        kind=kind,
        status=DriftStatus.OPEN,
        defaults={"node_name": node, "instance": instance, "details": details, "last_seen_at": now},
    )
    if not created:
        Drift.objects.filter(pk=drift.pk).update(last_seen_at=now, node_name=node or drift.node_name)
    return drift


def reconcile_cluster(*, cluster: Cluster) -> dict[str, int]:
    """One cluster: returns counts of what was found (``power_fixed``, ``orphans``, ``missing``, ``stuck``)."""
    driver = instance_driver(cluster)
    rows = [r for r in driver.cluster_resources("vm") if r.get("type") == "qemu"]
    vms = {int(r["vmid"]): r for r in rows if not int(r.get("template") or 0)}
    counts = {"power_fixed": 0, "orphans": 0, "missing": 0, "stuck": 0, "unreachable": 0}
    unreachable_nodes: dict[str, str] = {}  # node -> error, asked once per pass
    instances = list(
        Instance.objects.filter(cluster=cluster).exclude(status=InstanceStatus.DELETED).select_related("reservation")
    )
    busy_ids = set(
        Action.objects.filter(instance__in=instances, status__in=choices.OPEN_ACTION_STATUSES).values_list(
            "instance_id", flat=True
        )
    )
    known = {i.vmid for i in instances if i.vmid is not None}
    now = timezone.now()
    for instance in instances:
        row = vms.get(instance.vmid or -1)
        if instance.status in STEADY and instance.pk not in busy_ids:
            if row is None:
                counts["missing"] += 1
                _mark_missing(cluster=cluster, instance=instance)
                continue
            status: str | None = str(row.get("status", ""))
            if status not in ("running", "stopped"):
                # "unknown": no fresh data from the node's pvestatd, which is not "stopped" (PVE API
                # viewer, /cluster/resources; docs page reconciliation, "Unreachable hosts").
                status = _ask_node(driver, instance, str(row.get("node", "")), unreachable_nodes)
                if status is None:
                    counts["unreachable"] += 1
                    _mark_unreachable(
                        cluster=cluster, instance=instance, node=str(row.get("node", "")), error=unreachable_nodes
                    )
                    continue
                if status not in ("running", "stopped"):
                    continue  # gone from that node meanwhile (moved, deleted): the next pass sees it
            if instance.host_unreachable_since is not None:
                _mark_reachable(cluster=cluster, instance=instance)
            observed = PowerState.RUNNING if status == "running" else PowerState.STOPPED
            expected = PowerState.RUNNING if instance.status == InstanceStatus.RUNNING else PowerState.STOPPED
            if observed != expected:
                counts["power_fixed"] += 1
                _fix_power(cluster=cluster, instance=instance, observed=observed, node=str(row.get("node", "")))
            else:
                Instance.objects.filter(pk=instance.pk).update(power_state=observed, power_checked_at=now)
        elif instance.status in BUSY and instance.updated_at < now - _stuck_after():
            lease_live = Action.objects.filter(
                instance=instance, status__in=choices.OPEN_ACTION_STATUSES, lease_until__gt=now
            ).exists()
            if not lease_live:
                counts["stuck"] += 1
                _fail_stuck(cluster=cluster, instance=instance, vm_exists=row is not None)
    settled = set(
        Drift.objects.filter(cluster=cluster, kind=DriftKind.ORPHAN, status__in=SETTLED_ORPHAN).values_list(
            "vmid", flat=True
        )
    )
    accounted = known | settled
    for vmid, row in vms.items():
        if cluster.vmid_range_start <= vmid <= cluster.vmid_range_end and vmid not in accounted:
            counts["orphans"] += 1
            _flag(
                cluster=cluster,
                vmid=vmid,
                kind=DriftKind.ORPHAN,
                node=str(row.get("node", "")),
                name=row.get("name", ""),
                status=row.get("status", ""),
            )
    return counts


def _ask_node(driver: Any, instance: Instance, node: str, unreachable: dict[str, str]) -> str | None:
    """The VM's status from its own node; None when the node cannot be reached (then ``unreachable[node]``)."""
    node = node or instance.node_name
    if node in unreachable:
        return None
    try:
        return driver.status(node, instance.vmid).status
    except ProxmoxNotFound:
        return ""
    except ProxmoxError as exc:
        if not exc.is_transient:
            raise
        unreachable[node] = str(exc)
        return None


def _mark_unreachable(*, cluster: Cluster, instance: Instance, node: str, error: dict[str, str]) -> None:
    """Flag the instance and alert staff; its status, power state and resources stay as they are."""
    now = timezone.now()
    node = node or instance.node_name
    first = Instance.objects.filter(pk=instance.pk, host_unreachable_since__isnull=True).update(
        host_unreachable_since=now, power_state=PowerState.UNKNOWN, power_checked_at=now
    )
    _flag(
        cluster=cluster,
        vmid=instance.vmid or 0,
        kind=DriftKind.UNREACHABLE,
        node=node,
        instance=instance,
        error=error.get(node, "")[:300],
    )
    if first:
        logger.error(
            "instance %s: node %s of cluster %s unreachable (VM %s status unknown): %s",
            instance.pk,
            node,
            cluster.name,
            instance.vmid,
            error.get(node, ""),
        )
        audit_record(
            actor=None,
            action="instances.drift.unreachable",
            target=instance,
            organisation_id=instance.organisation_id,
            changes={"vmid": instance.vmid, "node": node},
        )


def _mark_reachable(*, cluster: Cluster, instance: Instance) -> None:
    """The node answers again: clear the flag and resolve the open ``unreachable`` Drift."""
    now = timezone.now()
    Instance.objects.filter(pk=instance.pk).update(host_unreachable_since=None)
    instance.host_unreachable_since = None
    Drift.objects.filter(
        cluster=cluster, vmid=instance.vmid or 0, kind=DriftKind.UNREACHABLE, status=DriftStatus.OPEN
    ).update(status=DriftStatus.RESOLVED, resolved_at=now, last_seen_at=now, updated_at=now)
    logger.warning("instance %s: node reachable again", instance.pk)


def _mark_missing(*, cluster: Cluster, instance: Instance) -> None:
    with transaction.atomic():
        locked = Instance.objects.select_for_update().get(pk=instance.pk)
        if locked.status not in STEADY:
            return
        instance_transition(
            instance=locked,
            to=InstanceStatus.ERROR,
            power_state=PowerState.UNKNOWN,
            error_message=_("This server is unavailable. Our team has been notified."),
            error_detail=f"VM {locked.vmid} not found in cluster {cluster.name} by reconciliation",
        )
        _flag(cluster=cluster, vmid=locked.vmid or 0, kind=DriftKind.MISSING, node=locked.node_name, instance=locked)
        audit_record(
            actor=None,
            action="instances.drift.missing",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={"vmid": locked.vmid},
        )


def _fix_power(*, cluster: Cluster, instance: Instance, observed: str, node: str) -> None:
    with transaction.atomic():
        locked = Instance.objects.select_for_update().get(pk=instance.pk)
        if locked.status not in STEADY:
            return
        to = InstanceStatus.RUNNING if observed == PowerState.RUNNING else InstanceStatus.STOPPED
        before = locked.status
        instance_transition(
            instance=locked,
            to=to,
            power_state=observed,
            power_checked_at=timezone.now(),
            node_name=node or locked.node_name,
        )
        Drift.objects.create(
            cluster=cluster,
            vmid=locked.vmid or 0,
            node_name=node,
            kind=DriftKind.POWER,
            status=DriftStatus.RESOLVED,
            instance=locked,
            details={"platform": before, "proxmox": observed},
            last_seen_at=timezone.now(),
            resolved_at=timezone.now(),
        )
        audit_record(
            actor=None,
            action="instances.drift.power_fixed",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={"status": [before, to]},
        )


def _fail_stuck(*, cluster: Cluster, instance: Instance, vm_exists: bool) -> None:
    with transaction.atomic():
        locked = Instance.objects.select_for_update(of=("self",)).select_related("reservation").get(pk=instance.pk)
        if locked.status not in BUSY:
            return
        # The server's own actions; a volume or floating IP action naming it is its app's to end.
        Action.objects.filter(
            instance=locked, resource_type=choices.ActionResource.SERVER, status__in=choices.OPEN_ACTION_STATUSES
        ).update(
            status=choices.ActionStatus.ERROR,
            error_code="stuck",
            error_message=_("The operation timed out. Our team has been notified."),
            finished_at=timezone.now(),
            lease_until=None,
        )
        before = locked.status
        instance_transition(
            instance=locked,
            to=InstanceStatus.ERROR,
            error_message=_("The operation timed out. Our team has been notified."),
            error_detail=f"stuck in {before} since {locked.updated_at.isoformat()}",
        )
        released = False
        if (
            not vm_exists
            and locked.reservation is not None
            and before
            in (
                InstanceStatus.PROVISIONING,
                InstanceStatus.DELETING,
            )
        ):
            placement_release(reservation=locked.reservation)
            released = True
        _flag(
            cluster=cluster,
            vmid=locked.vmid or 0,
            kind=DriftKind.STUCK,
            node=locked.node_name,
            instance=locked,
            status=before,
            released=released,
        )
        audit_record(
            actor=None,
            action="instances.instance.stuck_failed",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={"status": before, "released": released},
        )


# ---------------------------------------------------------------------------
# Staff actions on drift (admin)
# ---------------------------------------------------------------------------
QUARANTINE_TAG = "vmcloud-quarantine"
KNOWN_TAG = "vmcloud-known"
# Orphans staff closed as known or quarantined are not flagged again while their VM is there.
SETTLED_ORPHAN = (DriftStatus.ADOPTED, DriftStatus.QUARANTINED)


def _open_drift(drift: Drift, kind: str) -> Drift:
    locked = Drift.objects.select_for_update().select_related("cluster").get(pk=drift.pk)
    if locked.status != DriftStatus.OPEN:
        raise Conflict(_("This drift is already closed."), code="drift_closed")
    if locked.kind != kind:
        raise Conflict(
            _("This action applies to %(kind)s drift only.") % {"kind": DriftKind(kind).label}, code="drift_kind"
        )
    return locked


def _close(drift: Drift, *, status: str, note: str, actor: Actor, event: str, **changes: Any) -> Drift:
    drift.status = status
    drift.note = note[:300]
    drift.resolved_at = timezone.now()
    drift.details = {**drift.details, **changes}
    drift.save(update_fields=["status", "note", "resolved_at", "details", "updated_at"])
    audit_record(
        actor=actor,
        action=f"instances.drift.{event}",
        target=drift,
        organisation_id=drift.instance.organisation_id if drift.instance_id and drift.instance else None,
        changes={"vmid": drift.vmid, "note": note, **changes},
    )
    return drift


def _tag(driver: Any, node: str, vmid: int, tag: str) -> None:
    """Add ``tag`` to the VM's ``tags`` (``;``-separated, qm.conf(5)), keeping the others; digest-guarded."""
    config = driver.config(node, vmid)
    tags = [t for t in str(config.options.get("tags") or "").replace(",", ";").split(";") if t]
    if tag in tags:
        return
    upid = driver.update_config(node, vmid, {"tags": ";".join([*tags, tag])}, digest=config.digest)
    if upid:
        driver.wait_task(node, upid)


def _orphan_on_cluster(drift: Drift) -> tuple[Any, str]:
    """The driver and the node now holding the orphan VM; a VM gone since is a Conflict (nothing to act on)."""
    driver = instance_driver(drift.cluster)
    node = driver.locate(drift.vmid)
    if node is None:
        raise Conflict(_("This VM is no longer in Proxmox: mark the drift resolved."), code="drift_vm_gone")
    return driver, node


def drift_adopt(*, drift: Drift, actor: Actor, note: str = "") -> Drift:
    """Acknowledge an orphan VM as *known*: kept, not managed, not billed.

    Decision (issue 5): "adopt" does not turn the VM into a customer instance.
    An instance needs an order's offer, price, placement reservation (node
    capacity, GPUs, addresses) and image, none of which an unknown VM carries;
    guessing them would bill a customer for something they never ordered. So
    adopting means: staff confirm the VM is legitimate (a staff test VM, a VM
    run by hand for a customer under a contract), its VMID is blocked in the
    platform's allocator (``vmid_block``) so provisioning never aims at it, it
    is tagged ``vmcloud-known`` in Proxmox so operators see the decision there
    too, and reconciliation stops flagging it. The note says why.
    """
    if not note.strip():
        raise ValidationFailed(_("Say why this VM is known."), fields={"note": [_("A note is required.")]})
    with transaction.atomic():
        locked = _open_drift(drift, DriftKind.ORPHAN)
        driver, node = _orphan_on_cluster(locked)
        vmid_block(cluster=locked.cluster, vmid=locked.vmid, note=f"adopted orphan: {note}"[:200], actor=actor)
        _tag(driver, node, locked.vmid, KNOWN_TAG)
        return _close(locked, status=DriftStatus.ADOPTED, note=note, actor=actor, event="adopted", node=node)


def drift_quarantine(*, drift: Drift, actor: Actor, note: str = "") -> Drift:
    """Stop an orphan VM in Proxmox and tag it ``vmcloud-quarantine``; it is kept (never destroyed) for inquiry.

    Stopping is a hard stop (``status/stop``): an unknown guest may be hostile
    and is not asked to shut down. The VMID is blocked like an adopted one.
    """
    with transaction.atomic():
        locked = _open_drift(drift, DriftKind.ORPHAN)
        driver, node = _orphan_on_cluster(locked)
        if driver.status(node, locked.vmid).status == "running":
            driver.wait_task(node, driver.stop(node, locked.vmid))
        _tag(driver, node, locked.vmid, QUARANTINE_TAG)
        vmid_block(cluster=locked.cluster, vmid=locked.vmid, note=f"quarantined orphan: {note}"[:200], actor=actor)
        return _close(locked, status=DriftStatus.QUARANTINED, note=note, actor=actor, event="quarantined", node=node)


def drift_repair(*, drift: Drift, actor: Actor, note: str = "") -> Drift:
    """Settle a *missing* VM: the instance stays in error with a message for the customer, its resources freed.

    Decision (issue 5): no automatic re-provisioning. The disk is gone, so a
    rebuilt server would silently come back empty under the same address;
    the customer decides (delete it, order again, restore from their backups).
    The reservation is released (GPUs, addresses, VMID back to the pools,
    ``placement_release``), its snapshots are marked deleted (they lived on the
    VM's disk), the snapshot schedule is removed, and ``vmid`` is cleared so a
    later delete of the instance never touches whatever VM takes that VMID.
    Refused when the VM is back in Proxmox (then it was not missing: reconcile
    again).
    """
    with transaction.atomic():
        locked = _open_drift(drift, DriftKind.MISSING)
        instance = locked.instance
        if instance is None:
            return _close(locked, status=DriftStatus.RESOLVED, note=note, actor=actor, event="repaired")
        instance = Instance.objects.select_for_update(of=("self",)).select_related("reservation").get(pk=instance.pk)
        if instance.status != InstanceStatus.ERROR:
            raise Conflict(_("The instance is no longer in error."), code="invalid_transition")
        driver = instance_driver(locked.cluster)
        if driver.locate(locked.vmid) is not None:
            raise Conflict(_("The VM is in Proxmox again: run reconciliation instead."), code="drift_vm_back")
        if instance.reservation is not None:
            placement_release(reservation=instance.reservation, actor=actor)
        instance_billing_stop(instance=instance, at=timezone.now())
        Snapshot.objects.filter(instance=instance).exclude(status=choices.SnapshotStatus.DELETED).update(
            status=choices.SnapshotStatus.DELETED, deleted_at=timezone.now()
        )
        schedule_remove(instance=instance)
        instance_transition(
            instance=instance,
            to=InstanceStatus.ERROR,
            vmid=None,
            power_state=PowerState.STOPPED,
            error_message=_(
                "This server's virtual machine and its disk were lost and cannot be recovered. It is no longer "
                "billed. Delete it and order a new server; our team will contact you."
            ),
            error_detail=f"VM {locked.vmid} missing from cluster {locked.cluster.name}; resources released by staff",
        )
        audit_record(
            actor=actor,
            action="instances.instance.lost",
            target=instance,
            organisation_id=instance.organisation_id,
            changes={"vmid": locked.vmid},
        )
        return _close(locked, status=DriftStatus.RESOLVED, note=note, actor=actor, event="repaired", released=True)


def drift_resolve(*, drift: Drift, actor: Actor, note: str = "") -> Drift:
    """Close a drift row as resolved with a note, touching nothing else (staff fixed it on the cluster)."""
    with transaction.atomic():
        locked = Drift.objects.select_for_update().get(pk=drift.pk)
        if locked.status != DriftStatus.OPEN:
            raise Conflict(_("This drift is already closed."), code="drift_closed")
        return _close(locked, status=DriftStatus.RESOLVED, note=note, actor=actor, event="resolved")
