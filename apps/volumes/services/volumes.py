"""Writes of block storage volumes: create, attach, detach, resize, delete, update.

Every write authorises (``resources.write``), validates, then claims the volume
with a conditional UPDATE on its status (``available`` → ``attaching`` …), so
two requests on one volume give exactly one winner and the loser a 409
(docs/dev/style.md#celery-tasks). Capacity is reserved against the tier
storage's envelope under that ``ClusterStorage`` row's lock, as placement does
for servers (``apps.infrastructure.services.placement``): no oversubscription
under concurrency. Proxmox work runs in ``services.execution`` from the task
enqueued on commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Sum
from django.utils.translation import gettext as _

from apps.catalogue.models import Datacentre, Offer
from apps.core.actors import Actor, actor_is_back_office_staff, actor_user
from apps.core.errors import Conflict, Unavailable, ValidationFailed
from apps.core.labels import labels_validate
from apps.core.money import to_cents, to_rate
from apps.core.services import audit_record
from apps.infrastructure.models import ClusterStorage
from apps.instances.choices import OPEN_ACTION_STATUSES, ActionResource, ActionType, InstanceStatus
from apps.instances.models import Action, Instance
from apps.instances.services import resource_action_open
from apps.teams.access import require_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation, Project
from apps.volumes import rules, task_names
from apps.volumes.choices import VolumeStatus
from apps.volumes.models import Volume, VolumeQuota

STORAGE_FAMILY = "storage"
HOURS_PER_MONTH = Decimal(730)
ATTACHABLE_SERVER_STATUSES = (InstanceStatus.RUNNING, InstanceStatus.STOPPED)


def volume_authorise(actor: Actor, organisation: Organisation, obj: Any = None) -> None:
    """Resource writes need ``resources.write``; staff in the back office and the platform (None) may act."""
    if actor is None or actor_is_back_office_staff(actor):
        return
    require_permission(actor, organisation, Permission.RESOURCES_WRITE, obj=obj)


def volume_prices(*, tier: Offer, size_gb: int) -> tuple[Decimal, Decimal]:
    """(hourly, monthly) of a volume: the tier's per-GB monthly price × size; hourly = monthly / 730."""
    monthly = rules.monthly_price(price_per_gb=tier.price_monthly, size_gb=size_gb)
    return to_rate(monthly / HOURS_PER_MONTH), to_cents(monthly)


def _size_clean(size_gb: int) -> int:
    message = rules.size_error(int(size_gb))
    if message is not None:
        raise ValidationFailed(_("Invalid size."), fields={"size_gb": [message]})
    return int(size_gb)


def _name_clean(name: str, *, project: Project, exclude: int | None = None) -> str:
    clean = (name or "").strip()
    if not clean or len(clean) > 63:
        raise ValidationFailed(_("Invalid name."), fields={"name": [_("1 to 63 characters.")]})
    taken = Volume.objects.filter(project=project, name=clean).exclude(status=VolumeStatus.DELETED)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ValidationFailed(
            _("Invalid name."), fields={"name": [_("A volume of this project already has this name.")]}
        )
    return clean


def _server_check(server: Instance, *, organisation_id: int, project_id: int, datacentre_id: int) -> None:
    if server.organisation_id != organisation_id or server.project_id != project_id:
        raise ValidationFailed(
            _("Invalid server."), fields={"server_id": [_("The server must be in the volume's project.")]}
        )
    if server.datacentre_id != datacentre_id:
        raise ValidationFailed(
            _("Invalid server."), fields={"server_id": [_("The server must be in the volume's datacentre.")]}
        )
    if server.status not in ATTACHABLE_SERVER_STATUSES or server.vmid is None:
        raise Conflict(_("Only a running or stopped server takes a volume."), code="server_not_ready")


def _action_open(
    *,
    volume: Volume,
    type: str,
    actor: Actor,
    params: Mapping[str, Any] | None = None,
    server: Instance | None = None,
) -> Action:
    """Record the operation in the shared Action table (listed on ``server`` too) and enqueue its task on commit."""
    return resource_action_open(
        resource_type=ActionResource.VOLUME,
        resource_id=volume.public_id,
        project=volume.project,
        type=type,
        actor=actor,
        task=task_names.RUN_ACTION,
        params=params,
        instance=server,
    )


def _reserve(*, tier: Offer, datacentre: Datacentre, size_gb: int, node_name: str | None) -> ClusterStorage:
    """Lock the tier's storages of the datacentre and reserve ``size_gb`` on the first with room.

    The row lock (``select_for_update``, in id order so two creates never deadlock) makes the check and the
    increment one step: two creates racing for the last GB serialise, and the second sees the first's GB.
    """
    rows = list(
        ClusterStorage.objects.select_for_update(no_key=True)
        .filter(cluster__datacentre=datacentre, tier=tier, enabled=True)
        .order_by("id")
    )
    for row in sorted(rows, key=lambda r: (r.reserved_gb, r.pk)):
        if node_name is not None and not row.shared and row.node_name != node_name:
            continue
        if row.reserved_gb + size_gb <= row.envelope_gb:
            ClusterStorage.objects.filter(pk=row.pk).update(reserved_gb=F("reserved_gb") + size_gb)
            return row
    raise Unavailable(
        _("No %(tier)s capacity left in %(dc)s for %(size)s GB.")
        % {"tier": tier.code, "dc": datacentre.code, "size": size_gb},
        code="capacity_exhausted",
    )


def volume_quota_check(*, organisation: Organisation, add_volumes: int, add_gb: int) -> None:
    """Refuse (409 ``quota_exceeded``) a write that would take the organisation past its volume quota.

    Call inside the write's transaction: the organisation row is locked first (before any storage row, a fixed
    order), so two creates of one organisation cannot both pass the last free slot.
    """
    Organisation.objects.select_for_update(no_key=True).filter(pk=organisation.pk).first()
    quota = VolumeQuota.objects.filter(organisation=organisation).first()
    defaults = settings.VOLUMES_DEFAULT_QUOTAS
    max_volumes = quota.max_volumes if quota and quota.max_volumes is not None else defaults["max_volumes"]
    max_gb = quota.max_total_gb if quota and quota.max_total_gb is not None else defaults["max_total_gb"]
    live = (
        Volume.objects.filter(organisation=organisation)
        .exclude(status=VolumeStatus.DELETED)
        .aggregate(count=Count("id"), total=Sum("size_gb"))
    )
    count, total = live["count"], live["total"] or 0
    if count + add_volumes > max_volumes:
        raise Conflict(
            _("Your organisation may have %(n)s volumes: delete one or ask us to raise the quota.")
            % {"n": max_volumes},
            code="quota_exceeded",
        )
    if total + add_gb > max_gb:
        raise Conflict(
            _("Your organisation may have %(n)s GB of volumes: ask us to raise the quota.") % {"n": max_gb},
            code="quota_exceeded",
        )


def volume_reservation_release(*, cluster_storage_id: int | None, size_gb: int) -> None:
    """Give ``size_gb`` back to the storage's envelope (a volume deleted, a create or growth failed)."""
    if cluster_storage_id is None or size_gb <= 0:
        return
    with transaction.atomic():
        row = ClusterStorage.objects.select_for_update(no_key=True).get(pk=cluster_storage_id)
        ClusterStorage.objects.filter(pk=row.pk).update(reserved_gb=max(0, row.reserved_gb - size_gb))


def volume_create(
    *,
    actor: Actor,
    organisation: Organisation,
    project: Project,
    name: str,
    tier: Offer,
    size_gb: int,
    datacentre: Datacentre,
    server: Instance | None = None,
    labels: Mapping[str, str] | None = None,
    delete_protection: bool = False,
) -> tuple[Volume, Action]:
    """Create a volume (attached to ``server`` at once when given); returns it and its ``create`` action."""
    volume_authorise(actor, organisation)
    if project.organisation_id != organisation.pk:
        raise ValidationFailed(_("Invalid project."), fields={"project_id": [_("Not a project of this organisation.")]})
    if tier.family.slug != STORAGE_FAMILY:
        raise ValidationFailed(_("Invalid tier."), fields={"tier": [_("Not a block storage tier.")]})
    if not tier.datacentres.filter(pk=datacentre.pk).exists():
        raise ValidationFailed(_("Invalid tier."), fields={"tier": [_("This tier is not sold in this datacentre.")]})
    size_gb = _size_clean(size_gb)
    clean_labels = labels_validate(dict(labels or {}))
    with transaction.atomic():
        volume_quota_check(organisation=organisation, add_volumes=1, add_gb=size_gb)
        clean_name = _name_clean(name, project=project)
        if server is not None:
            server = Instance.objects.select_for_update(no_key=True).get(pk=server.pk)
            _server_check(server, organisation_id=organisation.pk, project_id=project.pk, datacentre_id=datacentre.pk)
        row = _reserve(
            tier=tier, datacentre=datacentre, size_gb=size_gb, node_name=server.node_name if server else None
        )
        hourly, monthly = volume_prices(tier=tier, size_gb=size_gb)
        volume = Volume.objects.create(
            organisation=organisation,
            project=project,
            name=clean_name,
            labels=clean_labels,
            tier=tier,
            size_gb=size_gb,
            datacentre=datacentre,
            server=server,
            status=VolumeStatus.CREATING,
            delete_protection=delete_protection,
            cluster_storage=row,
            cluster_id=row.cluster_id,
            node_name=row.node_name,
            storage=row.storage,
            price_hourly=hourly,
            price_monthly=monthly,
            created_by=actor_user(actor),  # type: ignore[misc]
        )
        audit_record(
            actor=actor,
            action="volumes.volume.create",
            target=volume,
            organisation_id=organisation.pk,
            changes={"tier": tier.code, "size_gb": size_gb, "server": str(server.public_id) if server else None},
        )
        action = _action_open(
            volume=volume,
            type=ActionType.CREATE,
            actor=actor,
            params={"server_id": server.pk if server else None},
            server=server,
        )
    return volume, action


def _claim(volume: Volume, *, frm: tuple[str, ...], to: str, message: str, **extra: Any) -> None:
    """Move the volume from one of ``frm`` to ``to`` with one conditional UPDATE; a 409 when it was not there."""
    open_action = Action.objects.filter(
        resource_type=ActionResource.VOLUME, resource_id=OuterRef("public_id"), status__in=OPEN_ACTION_STATUSES
    )
    won = Volume.objects.filter(pk=volume.pk, status__in=frm).filter(~Exists(open_action)).update(status=to, **extra)
    if not won:
        raise Conflict(message, code="volume_busy")
    volume.refresh_from_db()


def volume_attach(*, actor: Actor, volume: Volume, server: Instance) -> Action:
    """Attach an available volume to a running or stopped server of its project and datacentre."""
    volume_authorise(actor, volume.organisation, volume)
    with transaction.atomic():
        server = Instance.objects.select_for_update(no_key=True).get(pk=server.pk)
        _server_check(
            server,
            organisation_id=volume.organisation_id,
            project_id=volume.project_id,
            datacentre_id=volume.datacentre_id,
        )
        storage = volume.cluster_storage
        if storage is not None and not storage.shared and storage.node_name != server.node_name:
            raise Conflict(_("This volume's storage is not reachable from that server."), code="storage_unreachable")
        if volume.cluster_id is not None and server.cluster_id != volume.cluster_id:
            raise Conflict(_("This volume's storage is not reachable from that server."), code="storage_unreachable")
        _claim(
            volume,
            frm=(VolumeStatus.AVAILABLE,),
            to=VolumeStatus.ATTACHING,
            message=_("This volume is attached or busy."),
            server=server,
        )
        audit_record(
            actor=actor, action="volumes.volume.attach", target=volume, changes={"server": str(server.public_id)}
        )
        return _action_open(
            volume=volume, type=ActionType.ATTACH, actor=actor, params={"server_id": server.pk}, server=server
        )


def volume_detach(*, actor: Actor, volume: Volume) -> Action:
    """Detach a volume from its server; its data stays on the storage (docs/dev/proxmox-behaviour.md#volume-keeping)."""
    volume_authorise(actor, volume.organisation, volume)
    with transaction.atomic():
        _claim(volume, frm=(VolumeStatus.IN_USE,), to=VolumeStatus.DETACHING, message=_("This volume is not attached."))
        audit_record(actor=actor, action="volumes.volume.detach", target=volume)
        return _action_open(volume=volume, type=ActionType.DETACH, actor=actor, server=volume.server)


def volume_resize(*, actor: Actor, volume: Volume, size_gb: int) -> Action:
    """Grow an attached volume (never shrink); its I/O limits follow the new size.

    PVE resizes a disk through a VM's config (``PUT …/resize``): a detached
    volume must be attached first (docs/dev/proxmox-behaviour.md#resize).
    """
    volume_authorise(actor, volume.organisation, volume)
    size_gb = _size_clean(size_gb)
    if size_gb <= volume.size_gb:
        raise ValidationFailed(
            _("Invalid size."), fields={"size_gb": [_("A volume only grows: give more than %s GB.") % volume.size_gb]}
        )
    if volume.status == VolumeStatus.AVAILABLE:
        raise Conflict(_("Attach the volume to a server to grow it."), code="volume_not_attached")
    with transaction.atomic():
        extra = size_gb - volume.size_gb
        volume_quota_check(organisation=volume.organisation, add_volumes=0, add_gb=extra)
        if volume.cluster_storage_id is not None:
            row = ClusterStorage.objects.select_for_update(no_key=True).get(pk=volume.cluster_storage_id)
            if row.reserved_gb + extra > row.envelope_gb:
                raise Unavailable(_("No capacity left on this volume's storage."), code="capacity_exhausted")
            ClusterStorage.objects.filter(pk=row.pk).update(reserved_gb=F("reserved_gb") + extra)
        _claim(volume, frm=(VolumeStatus.IN_USE,), to=VolumeStatus.RESIZING, message=_("This volume is busy."))
        audit_record(
            actor=actor, action="volumes.volume.resize", target=volume, changes={"size_gb": [volume.size_gb, size_gb]}
        )
        return _action_open(
            volume=volume, type=ActionType.RESIZE, actor=actor, params={"size_gb": size_gb}, server=volume.server
        )


def volume_delete(*, actor: Actor, volume: Volume) -> Action:
    """Delete a detached, unprotected volume and free its storage."""
    volume_authorise(actor, volume.organisation, volume)
    with transaction.atomic():
        locked = Volume.objects.select_for_update(no_key=True).get(pk=volume.pk)
        if locked.delete_protection:
            raise Conflict(_("Turn delete protection off first."), code="delete_protected")
        if locked.server_id is not None:
            raise Conflict(_("Detach the volume first."), code="volume_attached")
        _claim(
            volume,
            frm=(VolumeStatus.AVAILABLE, VolumeStatus.ERROR),
            to=VolumeStatus.DELETING,
            message=_("This volume is busy."),
        )
        audit_record(actor=actor, action="volumes.volume.delete", target=volume)
        return _action_open(volume=volume, type=ActionType.DELETE, actor=actor)


def volume_update(
    *,
    actor: Actor,
    volume: Volume,
    name: str | None = None,
    labels: Mapping[str, str] | None = None,
    delete_protection: bool | None = None,
) -> Volume:
    """Rename, relabel or toggle delete protection (no Proxmox call)."""
    volume_authorise(actor, volume.organisation, volume)
    changes: dict[str, Any] = {}
    with transaction.atomic():
        locked = Volume.objects.select_for_update(no_key=True).get(pk=volume.pk)
        if locked.status == VolumeStatus.DELETED:
            raise Conflict(_("This volume is deleted."), code="volume_deleted")
        if name is not None:
            clean_name = _name_clean(name, project=locked.project, exclude=locked.pk)
            if clean_name != locked.name:
                changes["name"] = [locked.name, clean_name]
                locked.name = clean_name
        if labels is not None:
            clean = labels_validate(dict(labels))
            if clean != locked.labels:
                changes["labels"] = [locked.labels, clean]
                locked.labels = clean
        if delete_protection is not None and delete_protection != locked.delete_protection:
            changes["delete_protection"] = [locked.delete_protection, delete_protection]
            locked.delete_protection = delete_protection
        if changes:
            locked.save(update_fields=["name", "labels", "delete_protection", "updated_at"])
            audit_record(actor=actor, action="volumes.volume.update", target=locked, changes=changes)
    return locked


def volumes_server_status_changed(sender: Any, *, instance_id: int, before: str, after: str, **kwargs: Any) -> None:
    """Receiver of ``instances.signals.instance_status_changed``: a deleted server's volumes are kept, detached.

    The server's destroy (``purge`` and ``destroy-unreferenced-disks``) frees only the VMID's own disks; a
    volume belongs to its storage's holder VMID, so it survived on the storage with the same volid
    (docs/dev/proxmox-behaviour.md#volume-keeping). Only the platform's record has to follow.
    """
    if after != InstanceStatus.DELETED:
        return
    with transaction.atomic():
        volumes = list(
            Volume.objects.select_for_update(no_key=True)
            .filter(server_id=instance_id)
            .exclude(status=VolumeStatus.DELETED)
        )
        for volume in volumes:
            Volume.objects.filter(pk=volume.pk).update(server=None, slot="", status=VolumeStatus.AVAILABLE)
            audit_record(
                actor=None,
                action="volumes.volume.detach",
                target=volume,
                organisation_id=volume.organisation_id,
                changes={"reason": "server deleted"},
            )
