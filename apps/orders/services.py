"""Writes of orders: place, cancel, approve, reject, retry, fail, and staff fulfilment.

Every state change goes through ``_transition`` (checked against
``choices.ALLOWED_TRANSITIONS``, recorded as an ``OrderTransition``) and
writes an audit event in the same transaction.

Placing an order (``order_place``), in one transaction:

1. insert the order row first (``pending``). With an ``Idempotency-Key``
   the unique constraint on (organisation, key) makes a concurrent request
   with the same key wait on PostgreSQL's unique index until this
   transaction ends, then fail with ``IntegrityError``, and it replays the
   order this one created instead ("insert first", as Stripe and the IETF
   draft-ietf-httpapi-idempotency-key-header describe);
2. lock the organisation row, then check quotas: two orders of one
   organisation cannot both slip under the limit;
3. reserve capacity through placement (VM offers) before anything is
   charged or created; ``Unavailable`` rolls the whole order back;
4. freeze the prices and decide: flagged orders wait in
   ``awaiting_approval`` (capacity stays reserved), the others start
   provisioning at once.

Locks are taken in one order (order key, organisation, placement's own
order) so two placements cannot deadlock.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.catalogue.models import Datacentre, GpuSoftwareStack, Offer, OsImage
from apps.core.choices import ActorKind
from apps.core.errors import ApplicationError, Conflict, PermissionDenied, ValidationFailed
from apps.core.services import audit_record
from apps.infrastructure import choices as infrastructure_choices
from apps.infrastructure import services as placement
from apps.infrastructure.models import Reservation
from apps.instances import services as instance_services
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance, SshKey
from apps.orders import choices, risk, selectors, validation
from apps.orders.choices import FulfilmentStatus, OrderErrorCode, OrderFlag, OrderState
from apps.orders.models import Order, OrderBlock, OrderTransition
from apps.teams.access import actor_token_prefix, raise_suspended, require_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation, Project

Actor = Any


class IdempotencyKeyReused(ApplicationError):
    """The key was already used with a different request body (IETF idempotency draft: 422)."""

    status_code = 422
    default_code = OrderErrorCode.IDEMPOTENCY_KEY_REUSED


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def _user(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) and actor.pk else None


def _audit(
    *, actor: Actor, action: str, order: Order, changes: dict[str, Any] | None = None, staff: bool = False
) -> None:
    audit_record(
        actor=_user(actor),
        action=action,
        target=order,
        organisation_id=order.organisation_id,
        changes=changes,
        actor_kind=ActorKind.STAFF if staff else None,
        token_prefix=actor_token_prefix(actor),
    )


def _transition(*, order: Order, to: str, actor: Actor, reason: str = "") -> None:
    """Move ``order`` to ``to`` if the state machine allows it, and record who and why."""
    current = order.state
    if to not in choices.ALLOWED_TRANSITIONS[current]:
        raise Conflict(
            _("An order that is %(current)s cannot become %(to)s.")
            % {"current": OrderState(current).label, "to": OrderState(to).label},
            code=OrderErrorCode.INVALID_TRANSITION,
        )
    order.state = to
    order.save(update_fields=["state", "updated_at"])
    user = _user(actor)
    OrderTransition.objects.create(
        order=order,
        from_state=current,
        to_state=to,
        actor=user,
        actor_label=user.get_username() if user is not None else "system",
        reason=reason,
    )


def _locked(order: Order) -> Order:
    return Order.objects.select_for_update(no_key=True).select_related("offer", "offer__family").get(pk=order.pk)


def request_fingerprint(data: Any) -> str:
    """SHA-256 of a request body in canonical JSON (sorted keys): equal bodies, equal hashes."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _release_reservation(*, order: Order, actor: Actor) -> None:
    if order.reservation_id is None:
        return
    reservation = order.reservation
    if reservation is not None and reservation.state == infrastructure_choices.ReservationState.RESERVED:
        placement.placement_release(reservation=reservation, actor=_user(actor))


# ---------------------------------------------------------------------------
# Place
# ---------------------------------------------------------------------------
def order_place(
    *,
    actor: Actor,
    organisation: Organisation,
    project: Project,
    offer: Offer,
    datacentre: Datacentre,
    image: OsImage | None,
    name: str,
    ssh_keys: Sequence[uuid.UUID | str] = (),
    user_data: str = "",
    gpu_stack: GpuSoftwareStack | None = None,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> Order:
    """Validate, reserve capacity, freeze the price and start (or queue for approval) one order.

    Raises ``ValidationFailed`` (400, with field messages), ``PermissionDenied``
    (403: read-only role, suspended organisation), ``Unavailable`` (409: no
    capacity; nothing is created) or ``IdempotencyKeyReused`` (422). With an
    ``idempotency_key`` already used with the same ``request_hash``, returns
    the order that key created and creates nothing.
    """
    if project.organisation_id != organisation.pk:
        raise ValidationFailed(
            _("This project does not belong to the organisation."), fields={"project": [_("Unknown project.")]}
        )
    if organisation.is_suspended:
        raise_suspended(organisation)
    require_permission(actor, organisation, Permission.RESOURCES_WRITE, obj=project)
    _check_not_blocked(organisation=organisation)
    ssh_key_ids = sorted({str(k) for k in ssh_keys})
    key = (idempotency_key or "").strip()
    fingerprint = request_hash or request_fingerprint(
        {
            "project": project.pk,
            "offer": offer.pk,
            "datacentre": datacentre.pk,
            "image": image.pk if image else None,
            "gpu_stack": gpu_stack.pk if gpu_stack else None,
            "name": name,
            "ssh_keys": ssh_key_ids,
            "user_data": user_data,
        }
    )
    if key:
        existing = Order.objects.filter(organisation=organisation, idempotency_key=key).first()
        if existing is not None:
            return _replay(existing, fingerprint)

    _validate(
        organisation=organisation,
        offer=offer,
        datacentre=datacentre,
        image=image,
        gpu_stack=gpu_stack,
        name=name,
        ssh_key_ids=ssh_key_ids,
        user_data=user_data,
    )
    try:
        with transaction.atomic():
            order = Order.objects.create(
                organisation=organisation,
                project=project,
                created_by=_user(actor),
                offer=offer,
                datacentre=datacentre,
                image=image,
                gpu_stack=gpu_stack,
                name=name,
                ssh_key_ids=ssh_key_ids,
                user_data=user_data,
                # Frozen: later catalogue price changes never reach this order.
                price_hourly=offer.price_hourly,
                price_monthly=offer.price_monthly,
                idempotency_key=key,
                request_hash=fingerprint if key else "",
            )
            _place(order=order, actor=actor)
    except IntegrityError:
        if not key:
            raise
        existing = Order.objects.filter(organisation=organisation, idempotency_key=key).first()
        if existing is None:
            raise
        return _replay(existing, fingerprint)
    return order


def _replay(order: Order, fingerprint: str) -> Order:
    if order.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            _("This Idempotency-Key was already used with a different request. Use a new key for a new order.")
        )
    return order


def _validate(
    *,
    organisation: Organisation,
    offer: Offer,
    datacentre: Datacentre,
    image: OsImage | None,
    gpu_stack: GpuSoftwareStack | None,
    name: str,
    ssh_key_ids: list[str],
    user_data: str,
) -> None:
    errors: dict[str, list[str]] = {}
    user_data_errors, user_data_code = validation.check_user_data(user_data, datacentre=datacentre)
    for found in (
        validation.check_offer_place(offer=offer, datacentre=datacentre),
        validation.check_image(offer=offer, image=image, gpu_stack=gpu_stack),
        validation.check_hostname(name, single_label=validation.is_vm_offer(offer)),
        user_data_errors,
        _check_ssh_keys(organisation=organisation, offer=offer, ssh_key_ids=ssh_key_ids),
    ):
        for field, messages in found.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        # A datacentre that cannot take user-data yet is its own documented code (instances.md "User-data").
        if set(errors) == {"user_data"} and user_data_code == "user_data_unavailable":
            raise ValidationFailed(errors["user_data"][0], fields=errors, code=user_data_code)
        raise ValidationFailed(_("The order is not valid."), fields=errors)


def _ssh_keys_of(*, organisation: Organisation, ssh_key_ids: Sequence[str]) -> list[SshKey]:
    try:
        return list(SshKey.objects.filter(organisation=organisation, public_id__in=list(ssh_key_ids)).order_by("id"))
    except ValidationError:  # a malformed UUID (services may be called without the API's parsing)
        return []


def _check_ssh_keys(*, organisation: Organisation, offer: Offer, ssh_key_ids: list[str]) -> dict[str, list[str]]:
    if not ssh_key_ids:
        return {}
    if not validation.is_vm_offer(offer):
        return {"ssh_keys": [_("This product does not take SSH keys.")]}
    found = {str(key.public_id) for key in _ssh_keys_of(organisation=organisation, ssh_key_ids=ssh_key_ids)}
    missing = [key for key in ssh_key_ids if key not in found]
    if missing:
        return {"ssh_keys": [_("Unknown SSH key: %(id)s.") % {"id": key} for key in missing]}
    return {}


def _check_not_blocked(*, organisation: Organisation) -> None:
    reasons = list(OrderBlock.objects.filter(organisation=organisation).values_list("reason", flat=True))
    if reasons:
        raise PermissionDenied(
            _("New orders are blocked for this organisation: %(reasons)s") % {"reasons": " ".join(reasons)},
            code=OrderErrorCode.ORDERS_BLOCKED,
        )


def order_block_set(*, organisation: Organisation, source: str, reason: str, actor: Actor) -> OrderBlock:
    """Block new orders of ``organisation`` for ``source`` (idempotent: the reason is updated)."""
    with transaction.atomic():
        block, created = OrderBlock.objects.update_or_create(
            organisation=organisation, source=source, defaults={"reason": reason[:300]}
        )
        if created:
            audit_record(
                actor=actor,
                action="orders.block.set",
                target=block,
                organisation_id=organisation.pk,
                changes={"source": source, "reason": reason},
            )
    return block


def order_block_clear(*, organisation: Organisation, source: str, actor: Actor) -> bool:
    """Lift ``source``'s block on new orders; other sources' blocks stay. True if one was lifted."""
    with transaction.atomic():
        deleted, _per_model = OrderBlock.objects.filter(organisation=organisation, source=source).delete()
        if deleted:
            audit_record(
                actor=actor,
                action="orders.block.clear",
                target=organisation,
                organisation_id=organisation.pk,
                changes={"source": source},
            )
    return bool(deleted)


def order_service_end(*, order: Order, actor: Actor, reason: str) -> Order:
    """Staff ended a delivered managed service (cancelled, or terminated by dunning): billing stops now."""
    with transaction.atomic():
        order = _locked(order)
        if order.fulfilment_status != FulfilmentStatus.FULFILLED or order.service_ended_at is not None:
            raise Conflict(_("Only a delivered, running service can be ended."), code=OrderErrorCode.INVALID_TRANSITION)
        order.service_ended_at = timezone.now()
        order.save(update_fields=["service_ended_at", "updated_at"])
        _audit(actor=actor, action="orders.order.service_end", order=order, changes={"reason": reason}, staff=True)
    return order


def _check_quota(*, order: Order) -> None:
    offer = order.offer
    if not validation.is_vm_offer(offer):
        return
    usage = selectors.quota_usage(organisation=order.organisation, exclude=order)
    if usage.instances + 1 > usage.max_instances:
        raise PermissionDenied(
            _("Your organisation may run at most %(max)s servers. Contact support to raise the limit.")
            % {"max": usage.max_instances},
            code=OrderErrorCode.QUOTA_EXCEEDED,
        )
    gpus = offer.gpu_count or 0 if offer.is_gpu else 0
    if gpus and usage.gpus + gpus > usage.max_gpus:
        raise PermissionDenied(
            _("Your organisation may use at most %(max)s GPUs. Contact support to raise the limit.")
            % {"max": usage.max_gpus},
            code=OrderErrorCode.QUOTA_EXCEEDED,
        )


def _flags(*, order: Order) -> list[str]:
    flags: list[str] = []
    threshold = Decimal(str(settings.ORDERS_APPROVAL_FIRST_ORDER_ABOVE))
    if order.price_monthly > threshold:
        earlier = (
            Order.objects.filter(organisation_id=order.organisation_id)
            .exclude(pk=order.pk)
            .filter(state__in=[OrderState.PROVISIONING, OrderState.COMPLETED])
            .exists()
        )
        if not earlier:
            flags.append(OrderFlag.FIRST_ORDER_ABOVE_THRESHOLD.value)
    if order.offer.is_gpu:
        # The GPU risk policy staff tune in the back office (apps.orders.risk).
        flags.extend(risk.gpu_risk_flags(organisation=order.organisation))
    return flags


def _place(*, order: Order, actor: Actor) -> None:
    """Inside order_place's transaction: quotas, capacity, then start or wait for approval."""
    Organisation.objects.select_for_update(no_key=True).filter(pk=order.organisation_id).values_list("pk").first()
    _check_quota(order=order)
    OrderTransition.objects.create(
        order=order,
        from_state="",
        to_state=OrderState.PENDING,
        actor=_user(actor),
        actor_label=user.get_username() if (user := _user(actor)) else "system",
        reason=_("Order placed."),
    )
    if validation.is_vm_offer(order.offer):
        # Reserve before anything is created or charged; Unavailable rolls the order back.
        order.reservation = _reserve(order=order, actor=actor)
        order.save(update_fields=["reservation", "updated_at"])
    order.flags = _flags(order=order)
    _audit(
        actor=actor,
        action="orders.order.place",
        order=order,
        changes={
            "offer": order.offer.code,
            "datacentre": order.datacentre.code,
            "name": order.name,
            "price_hourly": str(order.price_hourly),
            "price_monthly": str(order.price_monthly),
            "flags": order.flags,
        },
    )
    if order.flags:
        order.save(update_fields=["flags", "updated_at"])
        labels = ", ".join(str(OrderFlag(flag).label) for flag in order.flags)
        _transition(order=order, to=OrderState.AWAITING_APPROVAL, actor=None, reason=labels)
    else:
        _start(order=order, actor=actor, reason=_("Order accepted."))


def _reserve(*, order: Order, actor: Actor) -> Reservation:
    if order.image is None:  # validation.check_image refuses VM orders without an image
        raise ValidationFailed(_("Choose an operating system image."), fields={"image": [_("Required.")]})
    return placement.placement_reserve(
        offer=order.offer,
        datacentre=order.datacentre,
        image=order.image,
        gpu_stack=order.gpu_stack,
        holder_ref=order.public_id,
        actor=_user(actor),
    )


def _start(*, order: Order, actor: Actor, reason: str) -> None:
    """Begin delivery: a VM through apps.instances, a managed service into the staff fulfilment queue."""
    if validation.is_vm_offer(order.offer):
        _transition(order=order, to=OrderState.PROVISIONING, actor=actor, reason=reason)
        _deliver_vm(order=order, actor=actor)
    else:
        order.fulfilment_status = FulfilmentStatus.QUEUED
        order.save(update_fields=["fulfilment_status", "updated_at"])
        _transition(order=order, to=OrderState.PROVISIONING, actor=actor, reason=reason)


def _deliver_vm(*, order: Order, actor: Actor) -> None:
    """Hand the reservation to apps.instances: it creates the instance and queues provisioning on commit.

    Called inside the order's transaction, so an order in ``provisioning``
    always has its instance and a failure here rolls the order back.
    """
    if order.image is None or order.reservation is None:
        raise Conflict(_("This order has no image or no reservation."), code=OrderErrorCode.INVALID_TRANSITION)
    instance, _action = instance_services.instance_create(
        organisation=order.organisation,
        project=order.project,
        offer=order.offer,
        datacentre=order.datacentre,
        image=order.image,
        name=order.name,
        ssh_keys=_ssh_keys_of(organisation=order.organisation, ssh_key_ids=order.ssh_key_ids),
        user_data=order.user_data,
        reservation=order.reservation,
        price_hourly=order.price_hourly,
        price_monthly=order.price_monthly,
        actor=actor,
    )
    order.instance = instance
    order.save(update_fields=["instance", "updated_at"])


# ---------------------------------------------------------------------------
# Follow the instance (beat task orders.sync)
# ---------------------------------------------------------------------------
def order_sync(*, order: Order) -> Order:
    """Complete or fail a provisioning VM order from its instance's status. Idempotent."""
    with transaction.atomic():
        order = _locked(order)
        if order.state != OrderState.PROVISIONING or order.instance_id is None:
            return order
        instance = Instance.objects.get(pk=order.instance_id)
        if instance.status == InstanceStatus.PROVISIONING:
            return order
        if instance.status in (InstanceStatus.ERROR, InstanceStatus.DELETED, InstanceStatus.DELETING):
            message = instance.error_message or _("The server could not be built.")
            _transition(order=order, to=OrderState.FAILED, actor=None, reason=message)
            order.error_message = message
            order.save(update_fields=["error_message", "updated_at"])
            _audit(actor=None, action="orders.order.fail", order=order, changes={"message": message})
        else:
            _transition(order=order, to=OrderState.COMPLETED, actor=None, reason=_("The server is ready."))
            _audit(actor=None, action="orders.order.complete", order=order)
    return order


def orders_sync_provisioning() -> int:
    """Sync every provisioning VM order whose instance left ``provisioning``; returns how many changed."""
    changed = 0
    pending = Order.objects.filter(state=OrderState.PROVISIONING, instance__isnull=False).exclude(
        instance__status=InstanceStatus.PROVISIONING
    )
    for order in pending.order_by("id")[:500]:
        if order_sync(order=order).state != OrderState.PROVISIONING:
            changed += 1
    return changed


# ---------------------------------------------------------------------------
# Idempotent responses
# ---------------------------------------------------------------------------
def order_response_remember(*, order: Order, status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Store the first response to an idempotent request, once; return the stored one.

    A conditional UPDATE: of several concurrent requests with one key, the
    first to store wins and every one of them answers with that response.
    """
    if not order.idempotency_key:
        return status, body
    Order.objects.filter(pk=order.pk, response_status__isnull=True).update(response_status=status, response_body=body)
    stored_status, stored_body = Order.objects.filter(pk=order.pk).values_list("response_status", "response_body").get()
    return int(stored_status or status), stored_body if isinstance(stored_body, dict) else body


# ---------------------------------------------------------------------------
# Customer actions
# ---------------------------------------------------------------------------
def order_cancel(*, order: Order, actor: Actor, reason: str = "") -> Order:
    """Cancel while pending, awaiting approval or failed; the reserved capacity is released."""
    require_permission(actor, order.organisation, Permission.RESOURCES_WRITE, obj=order)
    with transaction.atomic():
        order = _locked(order)
        if order.state not in choices.CANCELLABLE_STATES:
            raise Conflict(
                _("This order can no longer be cancelled: it is %(state)s.") % {"state": order.get_state_display()},
                code=OrderErrorCode.NOT_CANCELLABLE,
            )
        _release_reservation(order=order, actor=actor)
        _transition(order=order, to=OrderState.CANCELLED, actor=actor, reason=reason or _("Cancelled by the customer."))
        _audit(actor=actor, action="orders.order.cancel", order=order)
    return order


# ---------------------------------------------------------------------------
# Staff actions (the admin calls these)
# ---------------------------------------------------------------------------
def order_approve(*, order: Order, actor: Actor) -> Order:
    with transaction.atomic():
        order = _locked(order)
        if order.state != OrderState.AWAITING_APPROVAL:
            raise Conflict(_("Only orders awaiting approval can be approved."), code=OrderErrorCode.INVALID_TRANSITION)
        _start(order=order, actor=actor, reason=_("Approved by staff."))
        _audit(actor=actor, action="orders.order.approve", order=order, staff=True)
    return order


def order_reject(*, order: Order, actor: Actor, reason: str) -> Order:
    """Refuse a flagged order; ``reason`` is shown to the customer. The reserved capacity is released."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give the customer a reason."), fields={"reason": [_("This field is required.")]})
    with transaction.atomic():
        order = _locked(order)
        _release_reservation(order=order, actor=actor)
        _transition(order=order, to=OrderState.REJECTED, actor=actor, reason=reason)
        order.rejection_reason = reason
        order.save(update_fields=["rejection_reason", "updated_at"])
        _audit(actor=actor, action="orders.order.reject", order=order, changes={"reason": reason}, staff=True)
    return order


def order_fail(*, order: Order, actor: Actor, message: str) -> Order:
    """Mark a provisioning order failed (``message`` is for the customer); unused capacity is released."""
    with transaction.atomic():
        order = _locked(order)
        _transition(order=order, to=OrderState.FAILED, actor=actor, reason=message)
        order.error_message = message
        order.save(update_fields=["error_message", "updated_at"])
        _release_reservation(order=order, actor=actor)
        _audit(actor=actor, action="orders.order.fail", order=order, changes={"message": message})
    return order


def order_retry(*, order: Order, actor: Actor) -> Order:
    """Staff retry a failed order.

    A server whose provisioning failed resumes from its persisted step
    (``instances.instance_retry``); if it is gone, capacity is reserved again
    when it was released and a new server is created. A managed service goes
    back to the fulfilment queue.
    """
    with transaction.atomic():
        order = _locked(order)
        if order.state != OrderState.FAILED:
            raise Conflict(_("Only failed orders can be retried."), code=OrderErrorCode.INVALID_TRANSITION)
        order.error_message = ""
        instance = Instance.objects.filter(pk=order.instance_id).first() if order.instance_id else None
        if instance is not None and instance.status == InstanceStatus.ERROR:
            instance_services.instance_retry(instance=instance, actor=actor)
            order.save(update_fields=["error_message", "updated_at"])
            _transition(order=order, to=OrderState.PROVISIONING, actor=actor, reason=_("Retried by staff."))
        else:
            if validation.is_vm_offer(order.offer):
                order.instance = None
                if (
                    order.reservation is None
                    or order.reservation.state == infrastructure_choices.ReservationState.RELEASED
                ):
                    order.reservation = _reserve(order=order, actor=actor)
            order.save(update_fields=["instance", "reservation", "error_message", "updated_at"])
            _start(order=order, actor=actor, reason=_("Retried by staff."))
        _audit(actor=actor, action="orders.order.retry", order=order, staff=True)
    return order


def order_fulfilment_start(*, order: Order, actor: Actor, notes: str = "") -> Order:
    """Staff took a managed-service order in hand."""
    with transaction.atomic():
        order = _locked(order)
        if order.state != OrderState.PROVISIONING or order.fulfilment_status != FulfilmentStatus.QUEUED:
            raise Conflict(_("Only queued service orders can be started."), code=OrderErrorCode.INVALID_TRANSITION)
        order.fulfilment_status = FulfilmentStatus.IN_PROGRESS
        if notes:
            order.fulfilment_notes = notes
        order.save(update_fields=["fulfilment_status", "fulfilment_notes", "updated_at"])
        _audit(actor=actor, action="orders.order.fulfilment_start", order=order, staff=True)
    return order


def order_fulfil(*, order: Order, actor: Actor, notes: str) -> Order:
    """Staff delivered a managed service; ``notes`` (shown to the customer) say how to reach it."""
    with transaction.atomic():
        order = _locked(order)
        if order.state != OrderState.PROVISIONING or order.fulfilment_status not in (
            FulfilmentStatus.QUEUED,
            FulfilmentStatus.IN_PROGRESS,
        ):
            raise Conflict(_("Only open service orders can be fulfilled."), code=OrderErrorCode.INVALID_TRANSITION)
        order.fulfilment_status = FulfilmentStatus.FULFILLED
        order.fulfilment_notes = notes
        order.fulfilled_at = timezone.now()
        order.save(update_fields=["fulfilment_status", "fulfilment_notes", "fulfilled_at", "updated_at"])
        _transition(order=order, to=OrderState.COMPLETED, actor=actor, reason=notes or _("Fulfilled by staff."))
        _audit(actor=actor, action="orders.order.fulfil", order=order, staff=True)
    return order
