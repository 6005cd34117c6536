"""The order state machine: every state change, recorded with who and why.

``order_transition`` checks ``choices.ALLOWED_TRANSITIONS`` and writes an
``OrderTransition``; ``order_lock`` re-reads an order under a row lock;
``order_reservation_release`` gives back capacity an order still holds.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.core.actors import Actor, actor_user
from apps.core.errors import Conflict
from apps.infrastructure import choices as infrastructure_choices
from apps.infrastructure import services as placement
from apps.orders import choices
from apps.orders.choices import OrderErrorCode, OrderState
from apps.orders.models import Order, OrderTransition


def order_transition(*, order: Order, to: str, actor: Actor, reason: str = "") -> None:
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
    order_transition_record(order=order, from_state=current, actor=actor, reason=reason)


def order_transition_record(*, order: Order, from_state: str, actor: Actor, reason: str) -> None:
    """Append the history row of ``order`` reaching its current state."""
    user = actor_user(actor)
    OrderTransition.objects.create(
        order=order,
        from_state=from_state,
        to_state=order.state,
        actor=user,  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
        actor_label=user.get_username() if user is not None else "system",
        reason=reason,
    )


def order_lock(order: Order) -> Order:
    """Re-read ``order`` under a row lock (no key: the instance's row can still point at it)."""
    return Order.objects.select_for_update(no_key=True).select_related("offer", "offer__family").get(pk=order.pk)


def order_reservation_release(*, order: Order, actor: Actor) -> None:
    """Give back the capacity the order reserved, if it still holds it."""
    if order.reservation_id is None:
        return
    reservation = order.reservation
    if reservation is not None and reservation.state == infrastructure_choices.ReservationState.RESERVED:
        placement.placement_release(reservation=reservation, actor=actor_user(actor))
