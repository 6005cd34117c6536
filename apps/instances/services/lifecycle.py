"""Writes of an instance's life: create, edit, power, resize, rebuild, password, delete, staff retry and fail.

Every public service is keyword-only, takes the ``actor``, runs in one
transaction, checks the state machine (``choices.ALLOWED_TRANSITIONS``),
records its audit event in that transaction and enqueues its Celery task on
commit (``access.action_open``). The work that talks to Proxmox runs in those
tasks (``execution``, ``provisioning``).

``instance_transition`` is the one place an instance's status changes: it
keeps the price periods in step (the billing rules, apps/docs/content/billing.md)
and, once the transaction commits, sends ``signals.instance_status_changed``.
"""

from __future__ import annotations

import secrets
import string
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalogue.models import Datacentre, Offer, OsImage
from apps.core.actors import Actor, actor_user
from apps.core.errors import Conflict, Unavailable, ValidationFailed
from apps.core.services import audit_record
from apps.infrastructure import choices as infra_choices
from apps.infrastructure.models import GpuDevice, Reservation, VmTemplate
from apps.infrastructure.services import placement_resize
from apps.instances import choices, task_names
from apps.instances.choices import ActionType, InstanceStatus
from apps.instances.models import Action, Instance, InstancePricePeriod, SshKey
from apps.instances.services.access import action_open, instance_authorise, instance_driver, instance_lock
from apps.instances.services.snapshots import schedule_remove
from apps.instances.services.validation import (
    USER_DATA_UNAVAILABLE,
    instance_labels_clean,
    instance_name_clean,
    ssh_keys_resolve,
    user_data_check,
)
from apps.instances.signals import instance_labels_changed, instance_status_changed
from apps.teams.models import Organisation, Project

PASSWORD_LENGTH = 20
METRIC_TIMEFRAMES = ("hour", "day", "week", "month", "year")


# ---------------------------------------------------------------------------
# The state machine and the price periods
# ---------------------------------------------------------------------------
def instance_transition(*, instance: Instance, to: str, **fields: Any) -> Instance:
    """Move ``instance`` to status ``to`` if the state machine allows it (``Conflict`` otherwise).

    ``fields`` are saved with the status. When the status changes, higher apps
    are told once the transaction commits (``signals.instance_status_changed``).
    """
    before = instance.status
    if to != before and to not in choices.ALLOWED_TRANSITIONS[before]:
        raise Conflict(
            _("An instance that is %(status)s cannot become %(to)s.") % {"status": before, "to": to},
            code="invalid_transition",
        )
    offer_before = instance.offer_id
    instance.status = to
    update = ["status", "updated_at", *fields]
    for key, value in fields.items():
        setattr(instance, key, value)
    instance.save(update_fields=update)
    _price_period_follow(instance=instance, offer_changed=instance.offer_id != offer_before)
    if to != before:
        instance_id = instance.pk
        # Robust: a receiver that fails is logged and never fails the operation that committed (the
        # orders.sync safety net catches up; https://docs.djangoproject.com/en/5.2/topics/db/transactions/).
        transaction.on_commit(
            lambda: instance_status_changed.send(sender=Instance, instance_id=instance_id, before=before, after=to),
            robust=True,
        )
    return instance


def _price_period_follow(*, instance: Instance, offer_changed: bool) -> None:
    """Keep ``InstancePricePeriod`` in step with the lifecycle (the billing rules, apps/docs/content/billing.md).

    Billing starts when the server first runs, restarts at the new frozen price
    when a resize completes, and stops at deletion. Stopped servers keep billing.
    """
    now = timezone.now()
    open_period = InstancePricePeriod.objects.filter(instance=instance, ended_at__isnull=True).first()
    if instance.status == InstanceStatus.DELETED:
        if open_period is not None:
            instance_billing_stop(instance=instance, at=instance.deleted_at or now)
        return
    if open_period is not None:
        if not offer_changed:
            return
        instance_billing_stop(instance=instance, at=now)  # resized: a new period at the new price
    elif instance.status != InstanceStatus.RUNNING or InstancePricePeriod.objects.filter(instance=instance).exists():
        return  # not yet running, or billing was stopped for good (VM lost)
    InstancePricePeriod.objects.create(
        instance=instance,
        offer_id=instance.offer_id,
        price_hourly=instance.price_hourly,
        price_monthly=instance.price_monthly,
        started_at=now,
    )


def instance_billing_stop(*, instance: Instance, at: datetime) -> None:
    """Close the instance's open price period at ``at`` (deleted, or its VM declared lost)."""
    InstancePricePeriod.objects.filter(instance=instance, ended_at__isnull=True).update(ended_at=at)


# ---------------------------------------------------------------------------
# Create (called by apps.orders once placement reserved capacity)
# ---------------------------------------------------------------------------
def instance_create(
    *,
    organisation: Organisation,
    project: Project,
    offer: Offer,
    datacentre: Datacentre,
    image: OsImage,
    name: str,
    ssh_keys: Sequence[SshKey | str],
    user_data: str,
    reservation: Reservation,
    price_hourly: Decimal,
    price_monthly: Decimal,
    actor: Actor,
    labels: Mapping[str, str] | None = None,
) -> tuple[Instance, Action]:
    """Create the instance of a placed order and queue its provisioning; returns (instance, create Action).

    ``reservation`` comes from ``placement_reserve`` (held, not yet committed);
    it is committed when the VM runs and released when the instance is deleted.
    The prices are frozen on the instance as given (the order's).
    """
    name = instance_name_clean(name)
    labels_clean = instance_labels_clean(labels)
    keys = ssh_keys_resolve(organisation=organisation, ssh_keys=ssh_keys)
    user_data = user_data_check(user_data, datacentre=datacentre)
    if project.organisation_id != organisation.pk:
        raise ValidationFailed(_("This project belongs to another organisation."), code="invalid_project")
    if reservation.state == infra_choices.ReservationState.RELEASED:
        raise Conflict(_("This reservation was released."), code="reservation_released")
    if reservation.offer_id != offer.pk or reservation.datacentre_id != datacentre.pk:
        raise ValidationFailed(_("The reservation is for another offer or datacentre."), code="reservation_mismatch")
    if user_data and not reservation.cluster.has_snippets:
        message = _("User-data is not available in this datacentre yet: leave it empty or choose another datacentre.")
        raise ValidationFailed(message, code=USER_DATA_UNAVAILABLE, fields={"user_data": [message]})
    mappings = list(
        GpuDevice.objects.filter(reservation=reservation).order_by("pci_address").values_list("mapping_name", flat=True)
    )
    with transaction.atomic():
        try:
            instance = Instance.objects.create(
                organisation=organisation,
                project=project,
                name=name,
                labels=labels_clean,
                offer=offer,
                datacentre=datacentre,
                image=image,
                template_id=reservation.template_id,
                reservation=reservation,
                cluster_id=reservation.cluster_id,
                node_name=reservation.node.name,
                vmid=reservation.vmid,
                ipv4=reservation.ipv4,
                ipv6=reservation.ipv6,
                gpu_mappings=mappings,
                ssh_keys=keys,
                user_data=user_data,
                price_hourly=price_hourly,
                price_monthly=price_monthly,
                created_by=actor_user(actor),  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
            )
        except IntegrityError as exc:
            raise Conflict(_("This reservation already has an instance."), code="reservation_in_use") from exc
        action = action_open(instance=instance, type=ActionType.CREATE, actor=actor, task=task_names.PROVISION)
        audit_record(
            actor=actor,
            action="instances.instance.create",
            target=instance,
            organisation_id=organisation.pk,
            changes={
                "offer": offer.code,
                "datacentre": datacentre.code,
                "image": image.slug,
                "vmid": reservation.vmid,
                "node": instance.node_name,
                "user_data_bytes": len(user_data.encode("utf-8")),
            },
        )
    return instance, action


# ---------------------------------------------------------------------------
# Synchronous edits
# ---------------------------------------------------------------------------
def instance_update(
    *,
    instance: Instance,
    actor: Actor,
    name: str | None = None,
    labels: Mapping[str, str] | None = None,
    delete_protection: bool | None = None,
) -> Instance:
    """Rename, relabel or toggle delete protection (no Proxmox call: the hostname is set at first boot)."""
    instance_authorise(actor, instance)
    changes: dict[str, Any] = {}
    with transaction.atomic():
        locked = instance_lock(instance)
        if locked.status == InstanceStatus.DELETED:
            raise Conflict(_("This instance is deleted."), code="instance_deleted")
        if name is not None:
            clean_name = instance_name_clean(name)
            if clean_name != locked.name:
                changes["name"] = [locked.name, clean_name]
                locked.name = clean_name
        if labels is not None:
            clean = instance_labels_clean(labels)
            if clean != locked.labels:
                changes["labels"] = [locked.labels, clean]
                locked.labels = clean
        if delete_protection is not None and delete_protection != locked.delete_protection:
            changes["delete_protection"] = [locked.delete_protection, delete_protection]
            locked.delete_protection = delete_protection
        if changes:
            locked.save(update_fields=["name", "labels", "delete_protection", "updated_at"])
            audit_record(
                actor=actor,
                action="instances.instance.update",
                target=locked,
                organisation_id=locked.organisation_id,
                changes=changes,
            )
            if "labels" in changes:
                instance_id, organisation_id = locked.pk, locked.organisation_id
                transaction.on_commit(
                    lambda: instance_labels_changed.send(
                        sender=Instance, instance_id=instance_id, organisation_id=organisation_id
                    ),
                    robust=True,
                )
    return locked


# ---------------------------------------------------------------------------
# Power and lifecycle actions
# ---------------------------------------------------------------------------
def _power(*, instance: Instance, actor: Actor, type: str) -> Action:
    instance_authorise(actor, instance)
    allowed_from, during, _after = choices.POWER_ACTIONS[type]
    with transaction.atomic():
        locked = instance_lock(instance)
        if locked.status not in allowed_from:
            raise Conflict(
                _("Cannot %(action)s an instance that is %(status)s.") % {"action": type, "status": locked.status},
                code="invalid_transition",
            )
        action = action_open(instance=locked, type=type, actor=actor)
        if during:
            instance_transition(instance=locked, to=during)
        audit_record(
            actor=actor,
            action=f"instances.instance.{type}",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={"action": str(action.public_id)},
        )
    return action


def instance_start(*, instance: Instance, actor: Actor) -> Action:
    """Power on a stopped instance."""
    return _power(instance=instance, actor=actor, type=ActionType.START)


def instance_stop(*, instance: Instance, actor: Actor) -> Action:
    """Hard stop (like pulling the plug)."""
    return _power(instance=instance, actor=actor, type=ActionType.STOP)


def instance_shutdown(*, instance: Instance, actor: Actor) -> Action:
    """ACPI shutdown, hard stop after the timeout."""
    return _power(instance=instance, actor=actor, type=ActionType.SHUTDOWN)


def instance_reboot(*, instance: Instance, actor: Actor) -> Action:
    """ACPI reboot."""
    return _power(instance=instance, actor=actor, type=ActionType.REBOOT)


def instance_reset(*, instance: Instance, actor: Actor) -> Action:
    """Hard reset."""
    return _power(instance=instance, actor=actor, type=ActionType.RESET)


def instance_resize(*, instance: Instance, offer: Offer, actor: Actor) -> Action:
    """Move to a larger offer of the same family, on the same node (stop, resize, start again if it ran)."""
    instance_authorise(actor, instance)
    with transaction.atomic():
        locked = instance_lock(instance)
        current = locked.offer
        if locked.status not in (InstanceStatus.RUNNING, InstanceStatus.STOPPED):
            raise Conflict(_("Only a running or stopped instance can be resized."), code="invalid_transition")
        bigger = (
            (offer.vcpu or 0) >= (current.vcpu or 0)
            and (offer.ram_gb or 0) >= (current.ram_gb or 0)
            and (offer.disk_gb or 0) >= (current.disk_gb or 0)
            and offer.pk != current.pk
        )
        same_hardware = offer.gpu_model_id == current.gpu_model_id and (offer.gpu_count or 0) == (
            current.gpu_count or 0
        )
        if offer.family_id != current.family_id or not bigger or not same_hardware:
            raise ValidationFailed(
                _("Choose a larger plan of the same family (disks cannot shrink)."),
                code="resize_invalid_offer",
                fields={"offer": [_("Choose a larger plan of the same family.")]},
            )
        if not offer.is_orderable:
            raise Unavailable(_("This plan can no longer be ordered."), code="resize_unavailable")
        if locked.reservation is None:
            raise Unavailable(_("This instance has no placement."), code="resize_unavailable")
        # Capacity is infrastructure's ledger: all or nothing, under the envelopes.
        grown = placement_resize(reservation=locked.reservation, offer=offer, actor=actor)
        action = action_open(
            instance=locked,
            type=ActionType.RESIZE,
            actor=actor,
            params={
                "offer_id": offer.pk,
                "from_offer_id": current.pk,
                "was_running": locked.status == "running",
                # The price is frozen when the customer asks, as at order time.
                "price_hourly": str(offer.price_hourly),
                "price_monthly": str(offer.price_monthly),
            },
        )
        instance_transition(instance=locked, to=InstanceStatus.RESIZING)
        audit_record(
            actor=actor,
            action="instances.instance.resize",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={"to": offer.code, "grown": grown},
        )
    return action


def instance_rebuild(*, instance: Instance, image: OsImage, actor: Actor) -> Action:
    """Reinstall with ``image``: the VM is destroyed and cloned again from that image's template (same VMID, IPs)."""
    instance_authorise(actor, instance)
    with transaction.atomic():
        locked = instance_lock(instance)
        if locked.status not in (InstanceStatus.RUNNING, InstanceStatus.STOPPED):
            raise Conflict(_("Only a running or stopped instance can be rebuilt."), code="invalid_transition")
        reservation = locked.reservation
        if reservation is None:
            raise Conflict(_("This instance has no placement."), code="invalid_transition")
        if (locked.offer.ram_gb or 0) < image.min_ram_gb or (locked.offer.disk_gb or 0) < image.min_disk_gb:
            raise ValidationFailed(_("This image needs a larger plan."), code="image_too_large_for_offer")
        template = (
            VmTemplate.objects.filter(
                cluster_id=reservation.cluster_id,
                os_image=image,
                gpu_ready=bool(locked.gpu_mappings),
                missing_since__isnull=True,
            )
            .filter(Q(node__isnull=True) | Q(node_id=reservation.node_id))
            .order_by("id")
            .first()
        )
        if template is None:
            raise Unavailable(_("This image is not available for this instance."), code="image_unavailable")
        action = action_open(
            instance=locked,
            type=ActionType.REBUILD,
            actor=actor,
            params={"image_id": image.pk, "template_id": template.pk},
        )
        instance_transition(instance=locked, to=InstanceStatus.REBUILDING)
        audit_record(
            actor=actor,
            action="instances.instance.rebuild",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={"image": image.slug},
        )
    return action


def _crypt_sha512(password: str) -> str:
    # PVE accepts a pre-hashed ``cipassword`` (qm(1) "cipassword"), so only the
    # hash crosses the broker. ``crypt`` is deprecated (PEP 594) but present in 3.11.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))


def instance_reset_password(*, instance: Instance, actor: Actor) -> tuple[Action, str]:
    """Set a new random root password through cloud-init (applied at the next boot, so a running VM reboots).

    Returns the password once; only its SHA-512 crypt hash is kept, in the Action until it ran.
    """
    instance_authorise(actor, instance)
    alphabet = string.ascii_letters + string.digits
    password = "".join(secrets.choice(alphabet) for _ in range(PASSWORD_LENGTH))
    with transaction.atomic():
        locked = instance_lock(instance)
        if locked.status not in (InstanceStatus.RUNNING, InstanceStatus.STOPPED):
            raise Conflict(_("Only a running or stopped instance can get a new password."), code="invalid_transition")
        action = action_open(
            instance=locked,
            type=ActionType.RESET_PASSWORD,
            actor=actor,
            params={"password_hash": _crypt_sha512(password), "was_running": locked.status == "running"},
        )
        audit_record(
            actor=actor,
            action="instances.instance.reset_password",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={},
        )
    return action, password


def instance_delete(*, instance: Instance, actor: Actor) -> Action:
    """Destroy the VM and release its GPUs, IPs and VMID (``placement_release``)."""
    instance_authorise(actor, instance)
    with transaction.atomic():
        locked = instance_lock(instance)
        if locked.delete_protection:
            raise Conflict(_("Turn delete protection off first."), code="delete_protected")
        if locked.status in (InstanceStatus.DELETING, InstanceStatus.DELETED):
            raise Conflict(_("This instance is already being deleted."), code="invalid_transition")
        # Deleting wins over a running operation: provisioning and rebuilds stop at their next step.
        # The server's own actions: a volume or floating IP action naming it ends on its own when the VM goes.
        own = Action.objects.filter(instance=locked, resource_type=choices.ActionResource.SERVER)
        busy = own.filter(status__in=choices.OPEN_ACTION_STATUSES).exclude(
            type__in=[ActionType.CREATE, ActionType.REBUILD]
        )
        if busy.exists():
            raise Conflict(_("Another operation is still running on this instance."), code="action_in_progress")
        own.filter(status__in=choices.OPEN_ACTION_STATUSES, type__in=[ActionType.CREATE, ActionType.REBUILD]).update(
            status=choices.ActionStatus.ERROR,
            error_code="cancelled",
            error_message=_("Cancelled: the instance is being deleted."),
            finished_at=timezone.now(),
        )
        action = action_open(instance=locked, type=ActionType.DELETE, actor=actor)
        instance_transition(instance=locked, to=InstanceStatus.DELETING)
        # No scheduled snapshot may fire on an instance being deleted.
        schedule_remove(instance=locked)
        audit_record(
            actor=actor,
            action="instances.instance.delete",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={},
        )
    return action


def instance_retry(*, instance: Instance, actor: Actor) -> Action:
    """Staff: run provisioning again from its persisted step (an instance in error)."""
    with transaction.atomic():
        locked = instance_lock(instance)
        if locked.status != InstanceStatus.ERROR or locked.provision_step == choices.ProvisionStep.DONE:
            raise Conflict(_("Only an instance whose provisioning failed can be retried."), code="invalid_transition")
        action = action_open(instance=locked, type=ActionType.CREATE, actor=actor, task=task_names.PROVISION)
        instance_transition(instance=locked, to=InstanceStatus.PROVISIONING, error_message="", error_detail="")
        audit_record(
            actor=actor,
            action="instances.instance.retry",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={},
        )
    return action


def instance_fail(*, instance: Instance, actor: Actor, reason: str) -> Instance:
    """Staff: mark an instance as failed (its open actions end in error)."""
    with transaction.atomic():
        locked = instance_lock(instance)
        Action.objects.filter(
            instance=locked, resource_type=choices.ActionResource.SERVER, status__in=choices.OPEN_ACTION_STATUSES
        ).update(
            status=choices.ActionStatus.ERROR,
            error_code="failed_by_staff",
            error_message=reason[:300],
            finished_at=timezone.now(),
        )
        instance_transition(
            instance=locked,
            to=InstanceStatus.ERROR,
            error_message=_("Operation failed. Our team has been notified."),
            error_detail=reason,
        )
        audit_record(
            actor=actor,
            action="instances.instance.fail",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={"reason": reason},
        )
    return locked


# ---------------------------------------------------------------------------
# Metrics (a read from Proxmox, not audited)
# ---------------------------------------------------------------------------
def instance_metrics(*, instance: Instance, actor: Actor, timeframe: str = "hour") -> list[Any]:
    """CPU, RAM, disk and network points from Proxmox ``rrddata`` (docs/dev/proxmox-behaviour.md#metrics)."""
    if timeframe not in METRIC_TIMEFRAMES:
        raise ValidationFailed(
            _("Unknown timeframe."), code="invalid_timeframe", fields={"timeframe": [", ".join(METRIC_TIMEFRAMES)]}
        )
    if instance.cluster is None or instance.vmid is None:
        return []
    if instance.status in (InstanceStatus.PROVISIONING, InstanceStatus.DELETED):
        return []
    driver = instance_driver(instance.cluster)
    return list(driver.rrddata(instance.node_name, instance.vmid, timeframe=timeframe))
