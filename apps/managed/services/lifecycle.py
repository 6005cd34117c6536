"""Writes of managed services: create, deliver, cancel, suspend, resume, terminate, change tier, update.

Every write re-reads the service under a row lock (``service_lock``), checks the
state machine (``choices.ALLOWED_TRANSITIONS``; a Conflict with a stable code
otherwise), writes a ``ServiceTransition`` and the audit event in the same
transaction, and enqueues the backend's call on commit (``tasks.backend_call``
by name), so two requests on one service give exactly one winner.

Billing: a ``ServicePricePeriod`` opens at activation (delivery), is closed and
reopened at the new tier's price by a tier change, and is closed when the
service is cancelled or terminated; billing meters the periods like servers'
(apps/docs/content/pricing-rules.md). A suspended service stays billed (it is
kept, as a stopped server is).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalogue.models import Datacentre, Offer
from apps.core.actors import Actor, actor_is_back_office_staff, actor_user
from apps.core.choices import ActorKind
from apps.core.errors import Conflict, PermissionDenied, ValidationFailed
from apps.core.labels import labels_validate
from apps.core.services import audit_record, task_enqueue
from apps.infrastructure.rules import crypto
from apps.managed import task_names
from apps.managed.choices import (
    ALLOWED_TRANSITIONS,
    ENDED_STATES,
    SecretKind,
    ServiceState,
    family_for_product_slug,
)
from apps.managed.models import (
    ManagedService,
    ManagedServiceQuota,
    ServicePricePeriod,
    ServiceSecret,
    ServiceTransition,
    ServiceUsage,
)
from apps.managed.signals import service_fulfilment_started, service_state_changed
from apps.teams.access import require_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation, Project

S = ServiceState
NAME_MAX = 63
REASON_MAX = 1000


class ServiceErrorCode:
    """Stable codes of the managed app's errors (part of the public API: add, never rename)."""

    INVALID_TRANSITION = "service_invalid_transition"
    ENDED = "service_ended"
    DELETE_PROTECTED = "delete_protected"
    CONFIRMATION = "confirmation_mismatch"
    WRONG_FAMILY = "service_tier_family_mismatch"
    SAME_TIER = "service_tier_unchanged"
    OFFER_UNAVAILABLE = "offer_unavailable"
    NO_CREDENTIALS = "service_no_credentials"
    ALREADY_REVEALED = "service_credentials_already_revealed"
    NOT_STAFF = "staff_only"


# --- helpers -------------------------------------------------------------------------------------


def service_authorise(actor: Actor, service: ManagedService) -> None:
    """Customer writes need ``resources.write``; back-office staff and the platform (None) may act."""
    if actor is None or actor_is_back_office_staff(actor):
        return
    require_permission(actor, service.organisation, Permission.RESOURCES_WRITE, obj=service)


def _staff_only(actor: Actor) -> None:
    """Suspend, resume, terminate, deliver and usage are staff's (or the platform's: dunning, a backend)."""
    if actor is None or actor_is_back_office_staff(actor):
        return
    raise PermissionDenied(_("Only staff can do this."), code=ServiceErrorCode.NOT_STAFF)


def _actor_kind(actor: Actor) -> ActorKind | None:
    return ActorKind.STAFF if actor_is_back_office_staff(actor) else None


def _reason_clean(reason: str, *, required: bool) -> str:
    clean = (reason or "").strip()
    if required and not clean:
        raise ValidationFailed(_("Give a reason."), fields={"reason": [_("A reason is required.")]})
    if len(clean) > REASON_MAX:
        raise ValidationFailed(
            _("Invalid reason."), fields={"reason": [_("At most %(n)d characters.") % {"n": REASON_MAX}]}
        )
    return clean


def _name_clean(name: str, *, project: Project, exclude: int | None = None) -> str:
    clean = (name or "").strip()
    if not clean or len(clean) > NAME_MAX:
        raise ValidationFailed(_("Invalid name."), fields={"name": [_("1 to 63 characters.")]})
    taken = ManagedService.objects.filter(project=project, name=clean).exclude(state__in=ENDED_STATES)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ValidationFailed(
            _("Invalid name."), fields={"name": [_("A service of this project already has this name.")]}
        )
    return clean


def service_lock(service: ManagedService) -> ManagedService:
    """Re-read ``service`` under a row lock (no key: its price periods and secrets still point at it).

    Only the service's row (``of=("self",)``): the joined offer, organisation and project rows stay unlocked,
    so writes on two services of one offer or organisation never wait on each other.
    """
    return (
        ManagedService.objects.select_for_update(no_key=True, of=("self",))
        .select_related("offer", "offer__family", "organisation", "project")
        .get(pk=service.pk)
    )


def _transition(
    service: ManagedService, *, to: str, actor: Actor, reason: str = "", frm: tuple[str, ...] | None = None
) -> str:
    """Move the locked ``service`` to ``to`` if the state machine (and ``frm``, when given) allows it."""
    current = service.state
    if to not in ALLOWED_TRANSITIONS[current] or (frm is not None and current not in frm):
        code = ServiceErrorCode.ENDED if current in ENDED_STATES else ServiceErrorCode.INVALID_TRANSITION
        raise Conflict(
            _("A service that is %(current)s cannot become %(to)s.")
            % {"current": ServiceState(current).label, "to": ServiceState(to).label},
            code=code,
        )
    service.state = to
    service.state_reason = reason
    service_id = service.pk
    transaction.on_commit(
        lambda: service_state_changed.send(sender=ManagedService, service_id=service_id, before=current, after=to)
    )
    user = actor_user(actor)
    ServiceTransition.objects.create(
        service=service,
        from_state=current,
        to_state=to,
        actor=user,  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
        actor_label=user.get_username() if user is not None else "system",
        reason=reason,
    )
    return current


def _period_open(service: ManagedService, *, at: datetime) -> ServicePricePeriod:
    return ServicePricePeriod.objects.create(
        service=service,
        offer_id=service.offer_id,
        price_hourly=service.price_hourly,
        price_monthly=service.price_monthly,
        started_at=at,
    )


def _period_close(service: ManagedService, *, at: datetime) -> None:
    ServicePricePeriod.objects.filter(service=service, ended_at__isnull=True).update(ended_at=at)


def _backend_enqueue(service: ManagedService, operation: str) -> None:
    task_enqueue(task_names.BACKEND_CALL, service.pk, operation)


def _secrets_store(service: ManagedService, *, kind: str, values: Mapping[str, str]) -> list[str]:
    """Encrypt and store ``values`` (name → clear value), replacing secrets of the same name; returns the names."""
    names = []
    for name, value in values.items():
        clean = str(name).strip()
        if not clean or len(clean) > 128:
            raise ValidationFailed(_("Invalid secret name."), fields={"credentials": [_("1 to 128 characters.")]})
        ServiceSecret.objects.update_or_create(
            service=service,
            kind=kind,
            name=clean,
            defaults={"value": crypto.encrypt(str(value)), "revealed_at": None},
        )
        names.append(clean)
    return names


def service_secrets_clear(*, service: ManagedService) -> dict[str, str]:
    """The customer's environment secrets of ``service`` in clear, for its backend (never shown to anyone)."""
    return {s.name: crypto.decrypt(s.value) for s in ServiceSecret.objects.filter(service=service, kind=SecretKind.ENV)}


def service_quota_check(*, organisation: Organisation, add: int = 1) -> None:
    """Refuse (409 ``quota_exceeded``) what would take the organisation past its live services quota.

    Orders call it when a managed offer is ordered; ``service_create`` checks again under the organisation's
    row lock, so two orders cannot both pass the last free slot.
    """
    Organisation.objects.select_for_update(no_key=True).filter(pk=organisation.pk).first()
    quota = ManagedServiceQuota.objects.filter(organisation=organisation).first()
    default = settings.MANAGED_DEFAULT_QUOTAS["max_services"]
    limit = quota.max_services if quota and quota.max_services is not None else default
    live = ManagedService.objects.filter(organisation=organisation).exclude(state__in=ENDED_STATES).count()
    if live + add > limit:
        raise Conflict(
            _("Your organisation may have %(n)s managed services: cancel one or ask us to raise the quota.")
            % {"n": limit},
            code="quota_exceeded",
        )


# --- create --------------------------------------------------------------------------------------


def service_create(
    *,
    actor: Actor,
    organisation: Organisation,
    project: Project,
    offer: Offer,
    datacentre: Datacentre | None,
    name: str,
    labels: Mapping[str, str] | None,
    config: Mapping[str, Any],
    secrets: Mapping[str, str] | None = None,
    price_hourly: Decimal | None = None,
    price_monthly: Decimal | None = None,
) -> ManagedService:
    """A new service in ``provisioning``; its backend's ``provision`` runs once this commits.

    Called by orders when a managed order starts (the order authorised and validated it:
    ``config``/``secrets`` come from ``apps.managed.rules.service_config_clean``).
    Prices default to the offer's; orders pass the prices they froze.
    """
    family = family_for_product_slug(offer.family.slug)
    if family is None:
        raise ValidationFailed(
            _("This offer is not a managed service."),
            code=ServiceErrorCode.WRONG_FAMILY,
            fields={"offer": [_("Choose a web hosting, PaaS, load balancer or CDN offer.")]},
        )
    if project.organisation_id != organisation.pk:
        raise ValidationFailed(_("Invalid project."), fields={"project": [_("Not a project of this organisation.")]})
    with transaction.atomic():
        service_quota_check(organisation=organisation)
        service = ManagedService(  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
            organisation=organisation,
            project=project,
            offer=offer,
            family=family,
            datacentre=datacentre,
            name=_name_clean(name, project=project),
            labels=labels_validate(dict(labels or {})),
            config=dict(config),
            state=S.PROVISIONING,
            price_hourly=offer.price_hourly if price_hourly is None else price_hourly,
            price_monthly=offer.price_monthly if price_monthly is None else price_monthly,
            created_by=actor_user(actor),
        )
        service.save()
        user = actor_user(actor)
        ServiceTransition.objects.create(
            service=service,
            from_state="",
            to_state=S.PROVISIONING,
            actor=user,  # type: ignore[misc]
            actor_label=user.get_username() if user is not None else "system",
        )
        created_id = service.pk
        transaction.on_commit(
            lambda: service_state_changed.send(
                sender=ManagedService, service_id=created_id, before="", after=S.PROVISIONING
            )
        )
        secret_names = _secrets_store(service, kind=SecretKind.ENV, values=secrets or {})
        audit_record(
            actor=actor,
            action="managed.service.create",
            target=service,
            organisation_id=organisation.pk,
            changes={"family": family, "offer": offer.code, "name": service.name, "secrets": secret_names},
        )
        _backend_enqueue(service, "provision")
    return service


# --- delivery (staff backend's fulfilment form, or an automated backend) --------------------------


def _endpoints_clean(endpoints: Mapping[str, Any] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key in ("urls", "hostnames"):
        values = (endpoints or {}).get(key) or []
        if isinstance(values, str):
            values = list(values.replace(",", "\n").splitlines())
        clean = [str(v).strip() for v in values if str(v).strip()]
        if any(len(v) > 255 for v in clean):
            raise ValidationFailed(_("Invalid endpoints."), fields={key: [_("At most 255 characters each.")]})
        out[key] = clean
    return out


def service_deliver(
    *,
    service: ManagedService,
    actor: Actor,
    endpoints: Mapping[str, Any] | None,
    credentials: Mapping[str, str] | None = None,
    notes: str = "",
    backend_ref: str | None = None,
) -> ManagedService:
    """Record the delivery: endpoints, credentials (encrypted), notes; the service becomes ``active``.

    From ``provisioning`` it opens the first price period (billed from now); from
    ``changing`` it confirms the tier change (billed since the change already).
    """
    _staff_only(actor)
    clean_endpoints = _endpoints_clean(endpoints)
    with transaction.atomic():
        locked = service_lock(service)
        now = timezone.now()
        previous = _transition(
            locked, to=S.ACTIVE, actor=actor, reason=_("Delivered."), frm=(S.PROVISIONING, S.CHANGING)
        )
        if previous == S.PROVISIONING:
            locked.activated_at = now
            _period_open(locked, at=now)
        locked.endpoints = clean_endpoints
        locked.delivery_notes = (notes or "").strip()
        if backend_ref is not None:
            locked.backend_ref = backend_ref[:200]
        locked.save()
        names = _secrets_store(locked, kind=SecretKind.CREDENTIAL, values=credentials or {})
        audit_record(
            actor=actor,
            action="managed.service.deliver",
            target=locked,
            organisation_id=locked.organisation_id,
            actor_kind=_actor_kind(actor),
            changes={"state": [previous, S.ACTIVE], "endpoints": clean_endpoints, "credentials": names},
        )
    return locked


def service_fulfilment_start(*, service: ManagedService, actor: Actor) -> ManagedService:
    """Staff start delivering a provisioning service by hand (idempotent: a second call changes nothing)."""
    _staff_only(actor)
    with transaction.atomic():
        locked = service_lock(service)
        if locked.state != S.PROVISIONING:
            raise Conflict(
                _("Only a service being provisioned can be started on."), code=ServiceErrorCode.INVALID_TRANSITION
            )
        if locked.fulfilment_started_at is not None:
            return locked
        locked.fulfilment_started_at = timezone.now()
        locked.save(update_fields=["fulfilment_started_at", "updated_at"])
        audit_record(
            actor=actor,
            action="managed.service.fulfilment_start",
            target=locked,
            organisation_id=locked.organisation_id,
            actor_kind=_actor_kind(actor),
        )
        service_id = locked.pk
        transaction.on_commit(lambda: service_fulfilment_started.send(sender=ManagedService, service_id=service_id))
    return locked


def service_credentials_reveal(*, service: ManagedService, actor: Actor) -> dict[str, str]:
    """The delivered credentials not yet revealed, in clear, once: they are marked revealed and audited.

    A second request answers 409 (``service_credentials_already_revealed``): staff
    deliver new credentials when a customer lost them.
    """
    service_authorise(actor, service)
    with transaction.atomic():
        locked = service_lock(service)
        if locked.is_ended:
            raise Conflict(_("This service has ended."), code=ServiceErrorCode.ENDED)
        secrets = list(
            ServiceSecret.objects.select_for_update()
            .filter(service=locked, kind=SecretKind.CREDENTIAL)
            .order_by("name")
        )
        if not secrets:
            raise Conflict(_("No credentials were delivered for this service."), code=ServiceErrorCode.NO_CREDENTIALS)
        hidden = [s for s in secrets if s.revealed_at is None]
        if not hidden:
            raise Conflict(
                _("These credentials were already shown once. Ask support for new ones."),
                code=ServiceErrorCode.ALREADY_REVEALED,
            )
        now = timezone.now()
        ServiceSecret.objects.filter(pk__in=[s.pk for s in hidden]).update(revealed_at=now)
        audit_record(
            actor=actor,
            action="managed.service.credentials_reveal",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={"credentials": [s.name for s in hidden]},
        )
        return {s.name: crypto.decrypt(s.value) for s in hidden}


# --- customer: cancel, update, change tier ---------------------------------------------------------


def _end(locked: ManagedService, *, to: str, actor: Actor, reason: str) -> str:
    now = timezone.now()
    previous = _transition(locked, to=to, actor=actor, reason=reason)
    locked.ended_at = now
    locked.save()
    _period_close(locked, at=now)
    ServiceSecret.objects.filter(service=locked).delete()  # nothing to reveal or deploy any more
    _backend_enqueue(locked, "terminate")
    return previous


def service_cancel(*, service: ManagedService, actor: Actor, confirm_name: str, reason: str = "") -> ManagedService:
    """The customer ends the service: typed confirmation (its name), delete protection respected.

    Billing stops at this moment (the hour it falls in is the last billed).
    """
    service_authorise(actor, service)
    clean_reason = _reason_clean(reason, required=False)
    with transaction.atomic():
        locked = service_lock(service)
        if locked.is_ended:
            raise Conflict(_("This service has already ended."), code=ServiceErrorCode.ENDED)
        if (confirm_name or "").strip() != locked.name:
            raise ValidationFailed(
                _("Type the service's name to confirm."),
                code=ServiceErrorCode.CONFIRMATION,
                fields={"confirm": [_("Type %(name)s to confirm.") % {"name": locked.name}]},
            )
        if locked.delete_protection:
            raise Conflict(_("Turn delete protection off first."), code=ServiceErrorCode.DELETE_PROTECTED)
        previous = _end(locked, to=S.CANCELLED, actor=actor, reason=clean_reason or _("Cancelled by the customer."))
        audit_record(
            actor=actor,
            action="managed.service.cancel",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={"state": [previous, S.CANCELLED], "reason": clean_reason},
        )
    return locked


def service_update(
    *,
    actor: Actor,
    service: ManagedService,
    name: str | None = None,
    labels: Mapping[str, str] | None = None,
    delete_protection: bool | None = None,
) -> ManagedService:
    """Rename, relabel or toggle delete protection (no backend call)."""
    service_authorise(actor, service)
    changes: dict[str, Any] = {}
    with transaction.atomic():
        locked = service_lock(service)
        if locked.is_ended:
            raise Conflict(_("This service has ended."), code=ServiceErrorCode.ENDED)
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
            audit_record(
                actor=actor,
                action="managed.service.update",
                target=locked,
                organisation_id=locked.organisation_id,
                changes=changes,
            )
    return locked


def service_change_tier(*, service: ManagedService, actor: Actor, offer: Offer) -> ManagedService:
    """Move an active service to another tier of its family; billed at the new price from now.

    The open price period is closed now and one at the new tier's price opens now
    (the hour of the change is billed once, at the new price: the later period wins).
    The service is ``changing`` until its backend (or staff) has applied the tier.
    """
    service_authorise(actor, service)
    with transaction.atomic():
        locked = service_lock(service)
        offer = Offer.objects.select_related("family").get(pk=offer.pk)
        if family_for_product_slug(offer.family.slug) != locked.family:
            raise ValidationFailed(
                _("Choose a tier of the same family."),
                code=ServiceErrorCode.WRONG_FAMILY,
                fields={"offer": [_("This tier belongs to another family.")]},
            )
        if not offer.is_orderable:
            raise ValidationFailed(
                _("This tier cannot be ordered."),
                code=ServiceErrorCode.OFFER_UNAVAILABLE,
                fields={"offer": [_("This tier is not sold any more.")]},
            )
        if offer.pk == locked.offer_id:
            raise ValidationFailed(
                _("This is the service's tier already."),
                code=ServiceErrorCode.SAME_TIER,
                fields={"offer": [_("Choose another tier.")]},
            )
        if locked.state != S.ACTIVE:
            raise Conflict(
                _("Only an active service can change tier (it is %(state)s).")
                % {"state": ServiceState(locked.state).label},
                code=ServiceErrorCode.ENDED if locked.is_ended else ServiceErrorCode.INVALID_TRANSITION,
            )
        before = {"offer": locked.offer.code, "price_hourly": str(locked.price_hourly)}
        now = timezone.now()
        _transition(
            locked,
            to=S.CHANGING,
            actor=actor,
            reason=_("Tier change: %(old)s → %(new)s.") % {"old": locked.offer.code, "new": offer.code},
        )
        locked.offer = offer
        locked.price_hourly = offer.price_hourly
        locked.price_monthly = offer.price_monthly
        locked.save()
        _period_close(locked, at=now)
        _period_open(locked, at=now)
        audit_record(
            actor=actor,
            action="managed.service.change_tier",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={
                "offer": [before["offer"], offer.code],
                "price_hourly": [before["price_hourly"], str(offer.price_hourly)],
            },
        )
        _backend_enqueue(locked, "change")
    return locked


# --- staff: suspend, resume, terminate, usage ------------------------------------------------------


def _staff_transition(
    *,
    service: ManagedService,
    actor: Actor,
    to: str,
    reason: str,
    action: str,
    operation: str,
    frm: tuple[str, ...] | None = None,
) -> ManagedService:
    _staff_only(actor)
    clean = _reason_clean(reason, required=True)
    with transaction.atomic():
        locked = service_lock(service)
        if to == S.TERMINATED:
            if locked.is_ended:
                raise Conflict(_("This service has already ended."), code=ServiceErrorCode.ENDED)
            previous = _end(locked, to=S.TERMINATED, actor=actor, reason=clean)
        else:
            previous = _transition(locked, to=to, actor=actor, reason=clean, frm=frm)
            locked.save()
            _backend_enqueue(locked, operation)
        audit_record(
            actor=actor,
            action=action,
            target=locked,
            organisation_id=locked.organisation_id,
            actor_kind=_actor_kind(actor),
            changes={"state": [previous, to], "reason": clean},
        )
    return locked


def service_suspend(*, service: ManagedService, actor: Actor, reason: str) -> ManagedService:
    """Staff stop the service (abuse, a customer's request); it stays billed and can be resumed."""
    return _staff_transition(
        service=service,
        actor=actor,
        to=S.SUSPENDED,
        reason=reason,
        action="managed.service.suspend",
        operation="suspend",
    )


def service_resume(*, service: ManagedService, actor: Actor, reason: str) -> ManagedService:
    """Staff put a suspended service back in service."""
    return _staff_transition(
        service=service,
        actor=actor,
        to=S.ACTIVE,
        reason=reason,
        action="managed.service.resume",
        operation="resume",
        frm=(S.SUSPENDED,),
    )


def service_terminate(*, service: ManagedService, actor: Actor, reason: str) -> ManagedService:
    """Staff (or dunning, actor None) end the service for good, delete protection or not; billing stops now."""
    return _staff_transition(
        service=service,
        actor=actor,
        to=S.TERMINATED,
        reason=reason,
        action="managed.service.terminate",
        operation="terminate",
    )


def service_usage_record(
    *, service: ManagedService, actor: Actor, metric: str, value: Decimal, note: str = "", at: datetime | None = None
) -> ServiceUsage:
    """Staff record usage against the tier's limits (a catalogue spec name such as ``storage_gb``)."""
    _staff_only(actor)
    clean_metric = (metric or "").strip()
    if not clean_metric or len(clean_metric) > 64:
        raise ValidationFailed(_("Invalid metric."), fields={"metric": [_("1 to 64 characters.")]})
    try:
        amount = Decimal(str(value))
    except (ArithmeticError, ValueError) as exc:
        raise ValidationFailed(_("Invalid value."), fields={"value": [_("Enter a number.")]}) from exc
    if not amount.is_finite() or amount < 0:
        raise ValidationFailed(_("Invalid value."), fields={"value": [_("Enter a positive number.")]})
    with transaction.atomic():
        usage = ServiceUsage.objects.create(
            service=service,
            metric=clean_metric,
            value=amount,
            note=(note or "").strip()[:300],
            recorded_at=at or timezone.now(),
            recorded_by=actor_user(actor),  # type: ignore[misc]
        )
        audit_record(
            actor=actor,
            action="managed.service.usage_record",
            target=service,
            organisation_id=service.organisation_id,
            actor_kind=_actor_kind(actor),
            changes={"metric": clean_metric, "value": str(amount)},
        )
    return usage
