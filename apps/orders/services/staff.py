"""Staff writes on orders (the back office calls these): approve, reject, retry, fail, and blocks on new orders.

Approval answers the flags an order was placed with (``ordering``: first order
above the threshold, the GPU risk policy); a block (``OrderBlock``, set by
billing's dunning and budgets) refuses every new order of an organisation
until its source lifts it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.actors import Actor
from apps.core.choices import ActorKind
from apps.core.errors import Conflict, ValidationFailed
from apps.core.services import audit_record
from apps.infrastructure import choices as infrastructure_choices
from apps.instances import services as instance_services
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.orders.choices import OrderErrorCode, OrderState
from apps.orders.models import Order, OrderBlock
from apps.orders.rules.offers import is_vm_offer
from apps.orders.services.fulfilment import order_reserve, order_start
from apps.orders.services.transitions import order_lock, order_reservation_release, order_transition
from apps.teams.models import Organisation


def order_approve(*, order: Order, actor: Actor) -> Order:
    """Start an order that waited for approval (its capacity is still reserved)."""
    with transaction.atomic():
        order = order_lock(order)
        if order.state != OrderState.AWAITING_APPROVAL:
            raise Conflict(_("Only orders awaiting approval can be approved."), code=OrderErrorCode.INVALID_TRANSITION)
        order_start(order=order, actor=actor, reason=_("Approved by staff."))
        audit_record(
            actor=actor,
            action="orders.order.approve",
            target=order,
            organisation_id=order.organisation_id,
            actor_kind=ActorKind.STAFF,
        )
    return order


def order_reject(*, order: Order, actor: Actor, reason: str) -> Order:
    """Refuse a flagged order; ``reason`` is shown to the customer. The reserved capacity is released."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give the customer a reason."), fields={"reason": [_("This field is required.")]})
    with transaction.atomic():
        order = order_lock(order)
        order_reservation_release(order=order, actor=actor)
        order_transition(order=order, to=OrderState.REJECTED, actor=actor, reason=reason)
        order.rejection_reason = reason
        order.save(update_fields=["rejection_reason", "updated_at"])
        audit_record(
            actor=actor,
            action="orders.order.reject",
            target=order,
            organisation_id=order.organisation_id,
            changes={"reason": reason},
            actor_kind=ActorKind.STAFF,
        )
    return order


def order_fail(*, order: Order, actor: Actor, message: str) -> Order:
    """Mark a provisioning order failed (``message`` is for the customer); unused capacity is released."""
    with transaction.atomic():
        order = order_lock(order)
        order_transition(order=order, to=OrderState.FAILED, actor=actor, reason=message)
        order.error_message = message
        order.save(update_fields=["error_message", "updated_at"])
        order_reservation_release(order=order, actor=actor)
        audit_record(
            actor=actor,
            action="orders.order.fail",
            target=order,
            organisation_id=order.organisation_id,
            changes={"message": message},
        )
    return order


def order_retry(*, order: Order, actor: Actor) -> Order:
    """Staff retry a failed order.

    A server whose provisioning failed resumes from its persisted step
    (``instances.instance_retry``); if it is gone, capacity is reserved again
    when it was released and a new server is created. A managed service goes
    back to the fulfilment queue.
    """
    with transaction.atomic():
        order = order_lock(order)
        if order.state != OrderState.FAILED:
            raise Conflict(_("Only failed orders can be retried."), code=OrderErrorCode.INVALID_TRANSITION)
        order.error_message = ""
        instance = Instance.objects.filter(pk=order.instance_id).first() if order.instance_id else None
        if instance is not None and instance.status == InstanceStatus.ERROR:
            instance_services.instance_retry(instance=instance, actor=actor)
            order.save(update_fields=["error_message", "updated_at"])
            order_transition(order=order, to=OrderState.PROVISIONING, actor=actor, reason=_("Retried by staff."))
        else:
            if is_vm_offer(order.offer):
                order.instance = None
                if (
                    order.reservation is None
                    or order.reservation.state == infrastructure_choices.ReservationState.RELEASED
                ):
                    order.reservation = order_reserve(order=order, actor=actor)
            order.save(update_fields=["instance", "reservation", "error_message", "updated_at"])
            order_start(order=order, actor=actor, reason=_("Retried by staff."))
        audit_record(
            actor=actor,
            action="orders.order.retry",
            target=order,
            organisation_id=order.organisation_id,
            actor_kind=ActorKind.STAFF,
        )
    return order


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
