"""Writes of the instances app: create, lifecycle actions, snapshots, SSH keys.

Every public service is keyword-only, takes the ``actor``, runs in one
transaction, checks the state machine (``choices.ALLOWED_TRANSITIONS``),
writes an audit event in that transaction and enqueues its Celery task with
``transaction.on_commit`` (by name: services never import tasks). The work
that talks to Proxmox runs in those tasks (``apps.instances.operations``).

Only one operation runs on an instance at a time: a second one while an
Action is pending or running is ``Conflict`` (``action_in_progress``).
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import yaml
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalogue.models import Datacentre, Offer, OsImage
from apps.core.errors import Conflict, NotFound, PermissionDenied, Unavailable, ValidationFailed
from apps.core.labels import labels_validate
from apps.core.services import audit_record, task_enqueue
from apps.infrastructure import choices as infra_choices
from apps.infrastructure.models import Cluster, GpuDevice, Reservation, VmTemplate
from apps.infrastructure.services import placement_resize
from apps.instances import choices
from apps.instances.choices import ActionType, InstanceStatus
from apps.instances.models import Action, Instance, InstancePricePeriod, Snapshot, SnapshotSchedule, SshKey
from apps.instances.sshkeys import ssh_key_parse
from apps.teams.access import Actor, actor_has_permission, actor_token_prefix, require_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation, Project

PROVISION_TASK = "instances.provision"
ACTION_TASK = "instances.run_action"
SCHEDULED_SNAPSHOT_TASK = "instances.scheduled_snapshot"
# RFC 1123 host label, lower case: what cloud-init writes to /etc/hostname.
HOSTNAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
MAX_USER_DATA = 64 * 1024
PASSWORD_LENGTH = 20
MAX_SCHEDULE_RETENTION = 30


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def _user(actor: Actor) -> Any:
    return actor if isinstance(actor, AbstractBaseUser) and actor.is_authenticated else None


def _authorise(actor: Actor, instance: Instance) -> None:
    """Resource writes need ``resources.write``; staff in the back office and the system (None) may act."""
    if actor is None or (getattr(actor, "is_staff", False) and not actor_token_prefix(actor)):
        return
    require_permission(actor, instance.organisation, Permission.RESOURCES_WRITE, obj=instance)


def _audit(actor: Actor, event: str, instance: Instance | None, organisation_id: int, /, **changes: Any) -> None:
    audit_record(
        actor=actor,
        action=event,
        target=instance,
        organisation_id=organisation_id,
        changes=changes,
        token_prefix=actor_token_prefix(actor),
    )


def instance_transition(*, instance: Instance, to: str, **fields: Any) -> Instance:
    """Move ``instance`` to status ``to`` if the state machine allows it (``Conflict`` otherwise)."""
    if to != instance.status and to not in choices.ALLOWED_TRANSITIONS[instance.status]:
        raise Conflict(
            _("An instance that is %(status)s cannot become %(to)s.") % {"status": instance.status, "to": to},
            code="invalid_transition",
        )
    offer_before = instance.offer_id
    instance.status = to
    update = ["status", "updated_at", *fields]
    for key, value in fields.items():
        setattr(instance, key, value)
    instance.save(update_fields=update)
    _price_period_follow(instance=instance, offer_changed=instance.offer_id != offer_before)
    return instance


def _price_period_follow(*, instance: Instance, offer_changed: bool) -> None:
    """Keep ``InstancePricePeriod`` in step with the lifecycle (the billing rules, docs/billing.md).

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


def _lock(instance: Instance) -> Instance:
    """Re-read the instance under a row lock (one operation at a time)."""
    return Instance.objects.select_for_update().select_related("organisation", "offer").get(pk=instance.pk)


def _open_action(
    *, instance: Instance, type: str, actor: Actor, params: Mapping[str, Any] | None = None, task: str = ACTION_TASK
) -> Action:
    if Action.objects.filter(instance=instance, status__in=choices.OPEN_ACTION_STATUSES).exists():
        raise Conflict(_("Another operation is still running on this instance."), code="action_in_progress")
    action = Action.objects.create(
        instance=instance,
        organisation_id=instance.organisation_id,
        type=type,
        params=dict(params or {}),
        created_by=_user(actor),
    )
    task_enqueue(task, action.pk)
    return action


# ---------------------------------------------------------------------------
# Create (called by apps.orders once placement reserved capacity)
# ---------------------------------------------------------------------------
def _validate_name(name: str) -> str:
    name = (name or "").strip().lower()
    if not HOSTNAME_RE.match(name):
        message = _("Use 1 to 63 lower-case letters, digits and hyphens, not starting or ending with a hyphen.")
        raise ValidationFailed(message, code="invalid_name", fields={"name": [message]})
    return name


def _validate_labels(labels: Mapping[str, Any] | None) -> dict[str, str]:
    """Kubernetes-style labels (``apps.core.labels``; docs: apps/docs/content/api-overview.md)."""
    return labels_validate(labels)


def _resolve_keys(*, organisation: Organisation, ssh_keys: Sequence[SshKey | str]) -> list[str]:
    out: list[str] = []
    for key in ssh_keys:
        if isinstance(key, SshKey):
            if key.organisation_id != organisation.pk:
                raise ValidationFailed(
                    _("Unknown SSH key."), code="invalid_ssh_key", fields={"ssh_keys": [_("Unknown SSH key.")]}
                )
            out.append(key.public_key)
        else:
            out.append(ssh_key_parse(key).normalised)
    return out


# cloud-init's user-data formats (https://cloudinit.readthedocs.io/en/latest/explanation/format.html);
# cloud-init matches them case-insensitively after leading whitespace (``handlers.type_from_starts_with``).
USER_DATA_FORMATS = ("#cloud-config", "#!", "#include", "#cloud-boothook", "content-type: multipart/")
USER_DATA_UNAVAILABLE = "user_data_unavailable"


def user_data_available(*, datacentre: Datacentre) -> bool:
    """Whether user-data can be delivered wherever placement may put a VM in ``datacentre``.

    Placement may choose any active cluster of the datacentre, so every one of
    them needs a snippets storage (``Cluster.snippets_storage``/``snippets_path``).
    """
    clusters = Cluster.objects.filter(datacentre=datacentre, status=infra_choices.ClusterStatus.ACTIVE)
    return clusters.exists() and not clusters.filter(Q(snippets_storage="") | Q(snippets_path="")).exists()


def _user_data_problems(user_data: str) -> list[str]:
    try:
        size = len(user_data.encode("utf-8"))
    except UnicodeEncodeError:
        return [_("User-data must be UTF-8 text.")]
    if size > MAX_USER_DATA:
        return [_("User-data is limited to 64 KiB.")]
    head = user_data.lstrip()
    if not head.lower().startswith(USER_DATA_FORMATS):
        return [
            _(
                "User-data must start with #cloud-config, #! (a script), #include, #cloud-boothook "
                "or Content-Type: multipart/ (a MIME multipart message)."
            )
        ]
    if head.split("\n", 1)[0].strip().lower() != "#cloud-config":
        return []
    try:
        document = yaml.safe_load(user_data)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = (
            _("line %(line)s, column %(column)s") % {"line": mark.line + 1, "column": mark.column + 1}
            if mark is not None
            else _("unknown position")
        )
        return [
            _("#cloud-config is not valid YAML (%(where)s): %(problem)s") % {"where": where, "problem": exc.problem}
        ]
    except yaml.YAMLError as exc:
        return [_("#cloud-config is not valid YAML: %(error)s") % {"error": exc}]
    if document is not None and not isinstance(document, dict):
        return [_("#cloud-config must be a YAML mapping (keys such as packages:, runcmd:, write_files:).")]
    return []


def user_data_check(user_data: str, *, datacentre: Datacentre) -> str:
    """Check cloud-init user-data for an order in ``datacentre``; returns it unchanged ("" when empty).

    At most 64 KiB of UTF-8, in one of cloud-init's formats (``USER_DATA_FORMATS``);
    ``#cloud-config`` must be YAML that parses to a mapping. The platform
    delivers it as a vendor-data snippet (``operations._step_configure``,
    docs ``instances.md`` "User-data"), so the datacentre needs a snippets
    storage on every cluster (``user_data_available``): otherwise 400
    ``user_data_unavailable``, never an order accepted and its user-data dropped.
    Raises ``ValidationFailed`` with a ``user_data`` field message.
    """
    user_data = user_data or ""
    if not user_data.strip():
        return ""
    problems = _user_data_problems(user_data)
    if problems:
        raise ValidationFailed(problems[0], code="invalid_user_data", fields={"user_data": problems})
    if not user_data_available(datacentre=datacentre):
        message = _("User-data is not available in this datacentre yet: leave it empty or choose another datacentre.")
        raise ValidationFailed(message, code=USER_DATA_UNAVAILABLE, fields={"user_data": [message]})
    return user_data


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
    name = _validate_name(name)
    labels_clean = _validate_labels(labels)
    keys = _resolve_keys(organisation=organisation, ssh_keys=ssh_keys)
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
                created_by=_user(actor),
            )
        except IntegrityError as exc:
            raise Conflict(_("This reservation already has an instance."), code="reservation_in_use") from exc
        action = _open_action(instance=instance, type=ActionType.CREATE, actor=actor, task=PROVISION_TASK)
        _audit(
            actor,
            "instances.instance.create",
            instance,
            organisation.pk,
            offer=offer.code,
            datacentre=datacentre.code,
            image=image.slug,
            vmid=reservation.vmid,
            node=instance.node_name,
            user_data_bytes=len(user_data.encode("utf-8")),
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
    _authorise(actor, instance)
    changes: dict[str, Any] = {}
    with transaction.atomic():
        locked = _lock(instance)
        if locked.status == InstanceStatus.DELETED:
            raise Conflict(_("This instance is deleted."), code="instance_deleted")
        if name is not None and _validate_name(name) != locked.name:
            changes["name"] = [locked.name, _validate_name(name)]
            locked.name = _validate_name(name)
        if labels is not None:
            clean = _validate_labels(labels)
            if clean != locked.labels:
                changes["labels"] = [locked.labels, clean]
                locked.labels = clean
        if delete_protection is not None and delete_protection != locked.delete_protection:
            changes["delete_protection"] = [locked.delete_protection, delete_protection]
            locked.delete_protection = delete_protection
        if changes:
            locked.save(update_fields=["name", "labels", "delete_protection", "updated_at"])
            _audit(actor, "instances.instance.update", locked, locked.organisation_id, **changes)
    return locked


# ---------------------------------------------------------------------------
# Power and lifecycle actions
# ---------------------------------------------------------------------------
def _power(*, instance: Instance, actor: Actor, type: str) -> Action:
    _authorise(actor, instance)
    allowed_from, during, _after = choices.POWER_ACTIONS[type]
    with transaction.atomic():
        locked = _lock(instance)
        if locked.status not in allowed_from:
            raise Conflict(
                _("Cannot %(action)s an instance that is %(status)s.") % {"action": type, "status": locked.status},
                code="invalid_transition",
            )
        action = _open_action(instance=locked, type=type, actor=actor)
        if during:
            instance_transition(instance=locked, to=during)
        _audit(actor, f"instances.instance.{type}", locked, locked.organisation_id, action=str(action.public_id))
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
    return _power(instance=instance, actor=actor, type=ActionType.REBOOT)


def instance_reset(*, instance: Instance, actor: Actor) -> Action:
    return _power(instance=instance, actor=actor, type=ActionType.RESET)


def instance_resize(*, instance: Instance, offer: Offer, actor: Actor) -> Action:
    """Move to a larger offer of the same family, on the same node (stop, resize, start again if it ran)."""
    _authorise(actor, instance)
    with transaction.atomic():
        locked = _lock(instance)
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
        action = _open_action(
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
        _audit(actor, "instances.instance.resize", locked, locked.organisation_id, to=offer.code, grown=grown)
    return action


def instance_rebuild(*, instance: Instance, image: OsImage, actor: Actor) -> Action:
    """Reinstall with ``image``: the VM is destroyed and cloned again from that image's template (same VMID, IPs)."""
    _authorise(actor, instance)
    with transaction.atomic():
        locked = _lock(instance)
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
        action = _open_action(
            instance=locked,
            type=ActionType.REBUILD,
            actor=actor,
            params={"image_id": image.pk, "template_id": template.pk},
            task=ACTION_TASK,
        )
        instance_transition(instance=locked, to=InstanceStatus.REBUILDING)
        _audit(actor, "instances.instance.rebuild", locked, locked.organisation_id, image=image.slug)
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
    _authorise(actor, instance)
    alphabet = string.ascii_letters + string.digits
    password = "".join(secrets.choice(alphabet) for _ in range(PASSWORD_LENGTH))
    with transaction.atomic():
        locked = _lock(instance)
        if locked.status not in (InstanceStatus.RUNNING, InstanceStatus.STOPPED):
            raise Conflict(_("Only a running or stopped instance can get a new password."), code="invalid_transition")
        action = _open_action(
            instance=locked,
            type=ActionType.RESET_PASSWORD,
            actor=actor,
            params={"password_hash": _crypt_sha512(password), "was_running": locked.status == "running"},
        )
        _audit(actor, "instances.instance.reset_password", locked, locked.organisation_id)
    return action, password


def instance_delete(*, instance: Instance, actor: Actor) -> Action:
    """Destroy the VM and release its GPUs, IPs and VMID (``placement_release``)."""
    _authorise(actor, instance)
    with transaction.atomic():
        locked = _lock(instance)
        if locked.delete_protection:
            raise Conflict(_("Turn delete protection off first."), code="delete_protected")
        if locked.status in (InstanceStatus.DELETING, InstanceStatus.DELETED):
            raise Conflict(_("This instance is already being deleted."), code="invalid_transition")
        # Deleting wins over a running operation: provisioning and rebuilds stop at their next step.
        busy = Action.objects.filter(instance=locked, status__in=choices.OPEN_ACTION_STATUSES).exclude(
            type__in=[ActionType.CREATE, ActionType.REBUILD]
        )
        if busy.exists():
            raise Conflict(_("Another operation is still running on this instance."), code="action_in_progress")
        Action.objects.filter(
            instance=locked, status__in=choices.OPEN_ACTION_STATUSES, type__in=[ActionType.CREATE, ActionType.REBUILD]
        ).update(
            status=choices.ActionStatus.ERROR,
            error_code="cancelled",
            error_message=_("Cancelled: the instance is being deleted."),
            finished_at=timezone.now(),
        )
        action = _open_action(instance=locked, type=ActionType.DELETE, actor=actor)
        instance_transition(instance=locked, to=InstanceStatus.DELETING)
        # No scheduled snapshot may fire on an instance being deleted.
        schedule_remove(instance=locked)
        _audit(actor, "instances.instance.delete", locked, locked.organisation_id)
    return action


def instance_retry(*, instance: Instance, actor: Actor) -> Action:
    """Staff: run provisioning again from its persisted step (an instance in error)."""
    with transaction.atomic():
        locked = _lock(instance)
        if locked.status != InstanceStatus.ERROR or locked.provision_step == choices.ProvisionStep.DONE:
            raise Conflict(_("Only an instance whose provisioning failed can be retried."), code="invalid_transition")
        action = _open_action(instance=locked, type=ActionType.CREATE, actor=actor, task=PROVISION_TASK)
        instance_transition(instance=locked, to=InstanceStatus.PROVISIONING, error_message="", error_detail="")
        _audit(actor, "instances.instance.retry", locked, locked.organisation_id)
    return action


def instance_fail(*, instance: Instance, actor: Actor, reason: str) -> Instance:
    """Staff: mark an instance as failed (its open actions end in error)."""
    with transaction.atomic():
        locked = _lock(instance)
        Action.objects.filter(instance=locked, status__in=choices.OPEN_ACTION_STATUSES).update(
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
        _audit(actor, "instances.instance.fail", locked, locked.organisation_id, reason=reason)
    return locked


# ---------------------------------------------------------------------------
# Snapshots
# ---------------------------------------------------------------------------
def snapshot_create(
    *,
    instance: Instance,
    name: str,
    actor: Actor,
    scheduled: bool = False,
    labels: Mapping[str, str] | None = None,
) -> tuple[Snapshot, Action]:
    """Take a snapshot (disk only: VFIO state of GPU VMs cannot be saved, docs/dev/proxmox-behaviour.md#snapshots),
    within the quota."""
    _authorise(actor, instance)
    name = (name or "").strip() or timezone.now().strftime("snapshot-%Y%m%d-%H%M")
    if len(name) > 100:
        raise ValidationFailed(_("Name too long."), code="invalid_name", fields={"name": [_("100 characters max.")]})
    labels_clean = _validate_labels(labels)
    with transaction.atomic():
        locked = _lock(instance)
        if locked.status not in (InstanceStatus.RUNNING, InstanceStatus.STOPPED):
            raise Conflict(_("Only a running or stopped instance can be snapshotted."), code="invalid_transition")
        live = locked.snapshots.exclude(status__in=[choices.SnapshotStatus.DELETED, choices.SnapshotStatus.ERROR])
        if not scheduled and live.filter(scheduled=False).count() >= locked.offer.snapshot_quota:
            raise Conflict(
                _("This plan keeps %(n)s snapshots: delete one first.") % {"n": locked.offer.snapshot_quota},
                code="snapshot_quota_exceeded",
            )
        snapshot = Snapshot.objects.create(
            instance=locked,
            name=name,
            proxmox_name=f"s{uuid.uuid4().hex[:20]}",  # PVE: [a-zA-Z][a-zA-Z0-9_-]{1,39}
            labels=labels_clean,
            scheduled=scheduled,
            size_gb=locked.offer.disk_gb or 0,
        )
        action = _open_action(
            instance=locked, type=ActionType.SNAPSHOT_CREATE, actor=actor, params={"snapshot_id": snapshot.pk}
        )
        _audit(actor, "instances.snapshot.create", locked, locked.organisation_id, snapshot=name)
    return snapshot, action


def snapshot_update(
    *, snapshot: Snapshot, actor: Actor, name: str | None = None, labels: Mapping[str, str] | None = None
) -> Snapshot:
    """Rename or relabel a snapshot (the Proxmox name is our own and never changes)."""
    _authorise(actor, snapshot.instance)
    changes: dict[str, Any] = {}
    with transaction.atomic():
        locked = Snapshot.objects.select_for_update().get(pk=snapshot.pk)
        if name is not None:
            name = name.strip()
            if not name or len(name) > 100:
                message = _("1 to 100 characters.")
                raise ValidationFailed(_("Give the snapshot a name."), code="invalid_name", fields={"name": [message]})
            if name != locked.name:
                changes["name"] = [locked.name, name]
                locked.name = name
        if labels is not None:
            clean = _validate_labels(labels)
            if clean != locked.labels:
                changes["labels"] = [locked.labels, clean]
                locked.labels = clean
        if changes:
            locked.save(update_fields=["name", "labels"])
            _audit(actor, "instances.snapshot.update", snapshot.instance, snapshot.instance.organisation_id, **changes)
    return locked


def snapshot_rollback(*, snapshot: Snapshot, actor: Actor) -> Action:
    """Return the instance to the snapshot (stopped for the rollback, started again if it ran)."""
    instance = snapshot.instance
    _authorise(actor, instance)
    with transaction.atomic():
        locked = _lock(instance)
        if locked.status not in (InstanceStatus.RUNNING, InstanceStatus.STOPPED):
            raise Conflict(_("Only a running or stopped instance can be rolled back."), code="invalid_transition")
        if snapshot.status != choices.SnapshotStatus.AVAILABLE:
            raise Conflict(_("This snapshot is not available."), code="snapshot_not_available")
        action = _open_action(
            instance=locked,
            type=ActionType.SNAPSHOT_ROLLBACK,
            actor=actor,
            params={"snapshot_id": snapshot.pk, "was_running": locked.status == "running"},
        )
        _audit(actor, "instances.snapshot.rollback", locked, locked.organisation_id, snapshot=snapshot.name)
    return action


def snapshot_delete(*, snapshot: Snapshot, actor: Actor) -> Action:
    instance = snapshot.instance
    _authorise(actor, instance)
    with transaction.atomic():
        locked = _lock(instance)
        if snapshot.status not in (choices.SnapshotStatus.AVAILABLE, choices.SnapshotStatus.ERROR):
            raise Conflict(_("This snapshot is busy."), code="snapshot_not_available")
        action = _open_action(
            instance=locked, type=ActionType.SNAPSHOT_DELETE, actor=actor, params={"snapshot_id": snapshot.pk}
        )
        Snapshot.objects.filter(pk=snapshot.pk).update(status=choices.SnapshotStatus.DELETING)
        _audit(actor, "instances.snapshot.delete", locked, locked.organisation_id, snapshot=snapshot.name)
    return action


def _schedule_task_name(instance: Instance) -> str:
    return f"instances-snapshots-{instance.public_id}"


def _validate_schedule(*, frequency: str, hour: int, weekday: int, retention: int) -> None:
    errors: dict[str, list[str]] = {}
    if frequency not in choices.ScheduleFrequency.values:
        errors["frequency"] = [_("Choose daily or weekly.")]
    if not 0 <= hour <= 23:
        errors["hour"] = [_("An hour from 0 to 23 (UTC).")]
    if not 0 <= weekday <= 6:
        errors["weekday"] = [_("A day from 0 (Sunday) to 6 (Saturday).")]
    if not 1 <= retention <= MAX_SCHEDULE_RETENTION:
        errors["retention"] = [_("Keep between 1 and %(n)s snapshots.") % {"n": MAX_SCHEDULE_RETENTION}]
    if errors:
        raise ValidationFailed(_("Invalid snapshot schedule."), code="invalid_schedule", fields=errors)


def snapshot_schedule_set(
    *,
    instance: Instance,
    actor: Actor,
    frequency: str,
    hour: int = 3,
    weekday: int = 0,
    retention: int = 7,
    enabled: bool = True,
) -> SnapshotSchedule:
    """Create or replace the instance's automatic snapshots: a django-celery-beat crontab entry (UTC).

    Daily at ``hour``:00, or weekly on ``weekday`` (0 = Sunday, cron's
    numbering) at ``hour``:00. Each run takes a snapshot and prunes the oldest
    scheduled ones beyond ``retention``; scheduled snapshots do not count
    against the plan's manual snapshot quota.
    """
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    _authorise(actor, instance)
    _validate_schedule(frequency=frequency, hour=hour, weekday=weekday, retention=retention)
    if frequency == choices.ScheduleFrequency.DAILY:
        weekday = 0
    with transaction.atomic():
        locked = _lock(instance)
        if locked.status in (InstanceStatus.DELETING, InstanceStatus.DELETED):
            raise Conflict(_("This instance is being deleted."), code="instance_deleted")
        crontab, _created = CrontabSchedule.objects.get_or_create(
            minute="0",
            hour=str(hour),
            day_of_week="*" if frequency == choices.ScheduleFrequency.DAILY else str(weekday),
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        schedule = SnapshotSchedule.objects.filter(instance=locked).first() or SnapshotSchedule(instance=locked)
        before = (
            {"frequency": schedule.frequency, "hour": schedule.hour, "retention": schedule.retention}
            if schedule.pk
            else None
        )
        schedule.frequency, schedule.hour, schedule.weekday = frequency, hour, weekday
        schedule.retention, schedule.enabled = retention, enabled
        schedule.save()
        periodic, _p = PeriodicTask.objects.update_or_create(
            name=_schedule_task_name(locked),
            defaults={
                "task": SCHEDULED_SNAPSHOT_TASK,
                "crontab": crontab,
                "interval": None,
                "args": f"[{schedule.pk}]",
                "enabled": enabled,
                "description": f"Automatic snapshots of instance {locked.public_id}",
            },
        )
        if schedule.periodic_task_id != periodic.pk:
            schedule.periodic_task = periodic
            schedule.save(update_fields=["periodic_task", "updated_at"])
        _audit(
            actor,
            "instances.snapshot_schedule.set",
            locked,
            locked.organisation_id,
            before=before,
            frequency=frequency,
            hour=hour,
            weekday=weekday,
            retention=retention,
            enabled=enabled,
        )
    return schedule


def schedule_remove(*, instance: Instance) -> bool:
    """Drop the instance's schedule and its beat entry (no audit: callers audit). True if there was one."""
    from django_celery_beat.models import PeriodicTask

    removed, _per_model = PeriodicTask.objects.filter(name=_schedule_task_name(instance)).delete()
    deleted, _per_model = SnapshotSchedule.objects.filter(instance=instance).delete()
    return bool(removed or deleted)


def snapshot_schedule_delete(*, instance: Instance, actor: Actor) -> None:
    """Stop automatic snapshots (the snapshots already taken stay). ``NotFound`` when there is no schedule."""
    _authorise(actor, instance)
    with transaction.atomic():
        locked = _lock(instance)
        if not schedule_remove(instance=locked):
            raise NotFound(_("This instance has no snapshot schedule."))
        _audit(actor, "instances.snapshot_schedule.delete", locked, locked.organisation_id)


# ---------------------------------------------------------------------------
# SSH keys
# ---------------------------------------------------------------------------
def _authorise_org(actor: Actor, organisation: Organisation) -> None:
    if organisation.is_suspended or not actor_has_permission(actor, organisation, Permission.RESOURCES_WRITE):
        raise PermissionDenied(_("Your role does not allow this action."))


def ssh_key_create(
    *,
    organisation: Organisation,
    name: str,
    public_key: str,
    actor: Actor,
    labels: Mapping[str, str] | None = None,
) -> SshKey:
    """Add a validated public key to the organisation (unique by fingerprint and by name)."""
    _authorise_org(actor, organisation)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed(
            _("Give the key a name."), code="invalid_name", fields={"name": [_("1 to 100 characters.")]}
        )
    labels_clean = _validate_labels(labels)
    parsed = ssh_key_parse(public_key)
    with transaction.atomic():
        if SshKey.objects.filter(organisation=organisation, fingerprint=parsed.fingerprint).exists():
            message = _("This key is already registered.")
            raise ValidationFailed(message, code="duplicate_ssh_key", fields={"public_key": [message]})
        if SshKey.objects.filter(organisation=organisation, name=name).exists():
            message = _("A key with this name exists.")
            raise ValidationFailed(message, code="duplicate_ssh_key", fields={"name": [message]})
        key = SshKey.objects.create(
            organisation=organisation,
            name=name,
            public_key=parsed.normalised,
            key_type=parsed.key_type,
            bits=parsed.bits,
            fingerprint=parsed.fingerprint,
            labels=labels_clean,
            created_by=_user(actor),
        )
        _audit(actor, "instances.ssh_key.create", None, organisation.pk, name=name, fingerprint=parsed.fingerprint)
    return key


def ssh_key_rename(*, key: SshKey, name: str, actor: Actor) -> SshKey:
    return ssh_key_update(key=key, name=name, actor=actor)


def ssh_key_update(
    *, key: SshKey, actor: Actor, name: str | None = None, labels: Mapping[str, str] | None = None
) -> SshKey:
    """Rename or relabel a key (its material never changes: add a new key instead)."""
    _authorise_org(actor, key.organisation)
    if name is not None:
        name = name.strip()
        if not name or len(name) > 100:
            raise ValidationFailed(
                _("Give the key a name."), code="invalid_name", fields={"name": [_("1 to 100 characters.")]}
            )
    clean = _validate_labels(labels) if labels is not None else None
    with transaction.atomic():
        if (
            name is not None
            and SshKey.objects.filter(organisation_id=key.organisation_id, name=name).exclude(pk=key.pk).exists()
        ):
            message = _("A key with this name exists.")
            raise ValidationFailed(message, code="duplicate_ssh_key", fields={"name": [message]})
        if name is not None and name != key.name:
            old = key.name
            key.name = name
            key.save(update_fields=["name", "updated_at"])
            _audit(actor, "instances.ssh_key.rename", None, key.organisation_id, name=[old, name])
        if clean is not None and clean != key.labels:
            old_labels = key.labels
            key.labels = clean
            key.save(update_fields=["labels", "updated_at"])
            _audit(actor, "instances.ssh_key.update", None, key.organisation_id, labels=[old_labels, clean])
    return key


def ssh_key_delete(*, key: SshKey, actor: Actor) -> None:
    _authorise_org(actor, key.organisation)
    with transaction.atomic():
        _audit(actor, "instances.ssh_key.delete", None, key.organisation_id, name=key.name, fingerprint=key.fingerprint)
        key.delete()


def lease_seconds() -> int:
    """How long a claimed action stays claimed: above the hard task time limit."""
    return int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 1860)) + 60


METRIC_TIMEFRAMES = ("hour", "day", "week", "month", "year")


def instance_metrics(*, instance: Instance, actor: Actor, timeframe: str = "hour") -> list[Any]:
    """CPU, RAM, disk and network points from Proxmox ``rrddata`` (docs/dev/proxmox-behaviour.md#metrics); a read, not
    audited."""
    from apps.infrastructure.services import cluster_driver

    if timeframe not in METRIC_TIMEFRAMES:
        raise ValidationFailed(
            _("Unknown timeframe."), code="invalid_timeframe", fields={"timeframe": [", ".join(METRIC_TIMEFRAMES)]}
        )
    if (
        instance.cluster is None
        or instance.vmid is None
        or instance.status
        in (
            InstanceStatus.PROVISIONING,
            InstanceStatus.DELETED,
        )
    ):
        return []
    driver = cluster_driver(cluster=instance.cluster, **getattr(settings, "INSTANCES_DRIVER_OPTIONS", {}))
    return list(driver.rrddata(instance.node_name, instance.vmid, timeframe=timeframe))
