"""Staff writes on the fleet: clusters (with their encrypted secret), drains, GPU states, IP pools.

Each service validates, writes and records an audit event in one transaction.
The admin and the staff API call these; neither saves models itself.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalogue.models import Datacentre
from apps.core.actors import Actor
from apps.core.errors import Conflict, ValidationFailed
from apps.core.services import audit_record
from apps.infrastructure import choices
from apps.infrastructure.models import Cluster, GpuDevice, IpPool, Node, VmidAllocation
from apps.infrastructure.rules import crypto

CLUSTER_FIELDS = (
    "name",
    "api_url",
    "token_id",
    "tls_ca_pem",
    "tls_ca_file",
    "tls_fingerprint",
    "vmid_range_start",
    "vmid_range_end",
    "status",
    "snippets_storage",
    "snippets_path",
)


def _full_clean(obj: Any, exclude: list[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=exclude)
    except DjangoValidationError as exc:
        raise ValidationFailed(_("Invalid input."), fields=exc.message_dict) from exc


def cluster_create(*, datacentre: Datacentre, token_secret: str, actor: Actor = None, **fields: Any) -> Cluster:
    """Create a cluster; ``token_secret`` is stored encrypted and never returned."""
    unknown = set(fields) - set(CLUSTER_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    if not token_secret:
        raise ValidationFailed(_("Invalid input."), fields={"token_secret": [_("This field is required.")]})
    cluster = Cluster(datacentre=datacentre, **fields)
    cluster.set_token_secret(token_secret)
    _full_clean(cluster)
    with transaction.atomic():
        cluster.save()
        audit_record(
            actor=actor,
            action="infrastructure.cluster.create",
            target=cluster,
            changes={k: str(v) for k, v in fields.items() if k != "tls_ca_pem"},
        )
    return cluster


def cluster_update(*, cluster: Cluster, actor: Actor = None, token_secret: str | None = None, **fields: Any) -> Cluster:
    """Change a cluster's settings; a non-empty ``token_secret`` replaces the stored one."""
    unknown = set(fields) - {*CLUSTER_FIELDS, "datacentre"}
    if unknown:
        raise ValidationFailed(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    changes: dict[str, Any] = {}
    for name, value in fields.items():
        if getattr(cluster, name) != value:
            changes[name] = "(changed)" if name == "tls_ca_pem" else [str(getattr(cluster, name)), str(value)]
            setattr(cluster, name, value)
    if token_secret:
        cluster.set_token_secret(token_secret)
        changes["token_secret"] = "(replaced)"
    _full_clean(cluster)
    with transaction.atomic():
        cluster.save()
        audit_record(actor=actor, action="infrastructure.cluster.update", target=cluster, changes=changes)
    return cluster


def cluster_rotate_secrets(*, actor: Actor = None) -> int:
    """Re-encrypt every cluster secret with the current key (after adding a new FIELD_ENCRYPTION_KEY)."""
    count = 0
    with transaction.atomic():
        for cluster in Cluster.objects.select_for_update().exclude(token_secret_encrypted=""):
            rotated = crypto.rotate(cluster.token_secret_encrypted)
            Cluster.objects.filter(pk=cluster.pk).update(token_secret_encrypted=rotated)
            count += 1
        audit_record(actor=actor, action="infrastructure.cluster.rotate_secrets", changes={"count": count})
    return count


def node_set_maintenance(*, node: Node, maintenance: bool, reason: str = "", actor: Actor = None) -> Node:
    """Drain (``maintenance=True``) or undrain a node: drained nodes receive no new VMs; running ones stay."""
    with transaction.atomic():
        # update(): never write the allocation counters from a stale instance.
        Node.objects.filter(pk=node.pk).update(
            maintenance=maintenance, maintenance_reason=reason[:200] if maintenance else "", updated_at=timezone.now()
        )
        audit_record(
            actor=actor,
            action="infrastructure.node.drain" if maintenance else "infrastructure.node.undrain",
            target=node,
            changes={"reason": reason} if reason else None,
        )
    node.refresh_from_db()
    return node


def gpu_mark_faulty(*, gpu: GpuDevice, reason: str = "", actor: Actor = None) -> GpuDevice:
    """Take a GPU out of service. A VM holding it keeps its reservation until released."""
    with transaction.atomic():
        locked = GpuDevice.objects.select_for_update(no_key=True).get(pk=gpu.pk)
        locked.state = choices.GpuState.FAULTY
        locked.state_reason = reason[:200]
        locked.save(update_fields=["state", "state_reason", "updated_at"])
        audit_record(actor=actor, action="infrastructure.gpu.mark_faulty", target=locked, changes={"reason": reason})
    return locked


def gpu_mark_free(*, gpu: GpuDevice, actor: Actor = None) -> GpuDevice:
    """Put a faulty GPU back in service; refused while a reservation still holds it or it is missing."""
    with transaction.atomic():
        locked = GpuDevice.objects.select_for_update(no_key=True).get(pk=gpu.pk)
        if locked.state == choices.GpuState.FREE:
            return locked
        if locked.reservation_id is not None:
            raise Conflict(_("A reservation still holds this GPU."), code="gpu_held")
        if locked.missing_since is not None:
            raise Conflict(_("The node no longer reports this GPU."), code="gpu_missing")
        locked.state = choices.GpuState.FREE
        locked.state_reason = ""
        locked.save(update_fields=["state", "state_reason", "updated_at"])
        audit_record(actor=actor, action="infrastructure.gpu.mark_free", target=locked)
    return locked


def ip_pool_create(*, datacentre: Datacentre, actor: Actor = None, **fields: Any) -> IpPool:
    """Add an IPv4 or IPv6 subnet to a datacentre."""
    pool = IpPool(datacentre=datacentre, **fields)
    _full_clean(pool)
    with transaction.atomic():
        pool.save()
        audit_record(actor=actor, action="infrastructure.ip_pool.create", target=pool, changes={"cidr": pool.cidr})
    return pool


def vmid_block(*, cluster: Cluster, vmid: int, note: str, actor: Actor = None) -> VmidAllocation:
    """Keep a VMID of the platform's range away from the allocator (a VM staff keep outside the platform).

    A staff block is a ``VmidAllocation`` without a reservation: ``placement_reserve``
    skips it, so no provisioning ever aims at that VM. Idempotent.
    """
    if not cluster.vmid_range_start <= vmid <= cluster.vmid_range_end:
        raise ValidationFailed(_("This VMID is outside the platform's range."), fields={"vmid": [_("Out of range.")]})
    with transaction.atomic():
        allocation, created = VmidAllocation.objects.get_or_create(
            cluster=cluster, vmid=vmid, defaults={"note": note[:200]}
        )
        if not created and allocation.reservation_id is not None:
            raise Conflict(_("A reservation holds this VMID."), code="vmid_held")
        if created:
            audit_record(actor=actor, action="infrastructure.vmid.block", target=allocation, changes={"note": note})
    return allocation
