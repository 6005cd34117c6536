"""Delivering an order: a server through ``apps.instances``, a managed service by staff; following the server.

* ``order_start`` begins delivery (a VM: the instance is created and its
  provisioning queued on commit; a managed service: the staff fulfilment queue);
* ``order_sync`` completes or fails a provisioning VM order from its
  instance's status. Instances tells orders when a status changes
  (``apps.instances.signals.instance_status_changed``, connected in
  ``OrdersConfig.ready()`` to ``order_sync_on_instance_change``); the beat task
  ``orders.sync`` (``orders_sync_provisioning``) is a safety net for a signal
  lost with its process, and finds nothing in the normal case;
* a managed service is created when its order starts (``apps.managed``:
  ``service_create``); staff mark that they started on it
  (``order_fulfilment_start``: the order can no longer be cancelled), deliver
  it on the service (``service_deliver``), and its order follows the service
  (``order_sync_service``: completed when delivered, cancelled when it ended
  before). Billing, suspension and the end of a service are the service's.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.actors import Actor, actor_user
from apps.core.choices import ActorKind
from apps.core.errors import Conflict, ValidationFailed
from apps.core.services import audit_record
from apps.infrastructure import crypto
from apps.infrastructure import services as placement
from apps.infrastructure.models import Reservation
from apps.instances import services as instance_services
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.managed import services as managed_services
from apps.managed.choices import ENDED_STATES, ServiceState
from apps.managed.models import ManagedService
from apps.orders import validation
from apps.orders.choices import FulfilmentStatus, OrderErrorCode, OrderState
from apps.orders.models import Order
from apps.orders.services.transitions import order_lock, order_transition

# Orders the safety net re-reads per query (``orders_sync_provisioning``).
SYNC_BATCH = 200


# ---------------------------------------------------------------------------
# Start delivery
# ---------------------------------------------------------------------------
def order_reserve(*, order: Order, actor: Actor) -> Reservation:
    """Reserve capacity for a VM order through placement (``Unavailable`` when there is none)."""
    if order.image is None:  # validation.check_image refuses VM orders without an image
        raise ValidationFailed(_("Choose an operating system image."), fields={"image": [_("Required.")]})
    return placement.placement_reserve(
        offer=order.offer,
        datacentre=order.datacentre,
        image=order.image,
        gpu_stack=order.gpu_stack,
        holder_ref=order.public_id,
        actor=actor_user(actor),
    )


def order_start(*, order: Order, actor: Actor, reason: str) -> None:
    """Begin delivery: a VM through apps.instances, a managed service into the staff fulfilment queue."""
    if validation.is_vm_offer(order.offer):
        order_transition(order=order, to=OrderState.PROVISIONING, actor=actor, reason=reason)
        _deliver_vm(order=order, actor=actor)
    else:
        if validation.is_service_offer(order.offer) and order.service_id is None:
            order.service = _service_create(order=order, actor=actor)
        order.fulfilment_status = FulfilmentStatus.QUEUED
        order.service_secrets = ""  # the service holds them now, encrypted
        order.save(update_fields=["service", "service_secrets", "fulfilment_status", "updated_at"])
        order_transition(order=order, to=OrderState.PROVISIONING, actor=actor, reason=reason)


def _service_create(*, order: Order, actor: Actor) -> ManagedService:
    """The managed service the order bought, in ``provisioning``; its backend starts once this commits.

    Inside the order's transaction: an order in ``provisioning`` always has its
    service, and a refusal here (a name another live service of the project
    holds) rolls the order's start back.
    """
    secrets = json.loads(crypto.decrypt(order.service_secrets)) if order.service_secrets else {}
    return managed_services.service_create(
        actor=actor,
        organisation=order.organisation,
        project=order.project,
        offer=order.offer,
        datacentre=order.datacentre,
        name=order.name,
        labels={},
        config=order.service_config,
        secrets=secrets,
        price_hourly=order.price_hourly,
        price_monthly=order.price_monthly,
    )


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
        ssh_keys=instance_services.ssh_keys_of(organisation=order.organisation, ssh_key_ids=order.ssh_key_ids),
        user_data=order.user_data,
        reservation=order.reservation,
        price_hourly=order.price_hourly,
        price_monthly=order.price_monthly,
        actor=actor,
    )
    order.instance = instance
    order.save(update_fields=["instance", "updated_at"])


# ---------------------------------------------------------------------------
# Follow the instance
# ---------------------------------------------------------------------------
def order_sync(*, order: Order) -> Order:
    """Complete or fail a provisioning VM order from its instance's status. Idempotent."""
    with transaction.atomic():
        order = order_lock(order)
        if order.state != OrderState.PROVISIONING or order.instance_id is None:
            return order
        instance = Instance.objects.get(pk=order.instance_id)
        if instance.status == InstanceStatus.PROVISIONING:
            return order
        if instance.status in (InstanceStatus.ERROR, InstanceStatus.DELETED, InstanceStatus.DELETING):
            message = instance.error_message or _("The server could not be built.")
            order_transition(order=order, to=OrderState.FAILED, actor=None, reason=message)
            order.error_message = message
            order.save(update_fields=["error_message", "updated_at"])
            audit_record(
                actor=None,
                action="orders.order.fail",
                target=order,
                organisation_id=order.organisation_id,
                changes={"message": message},
            )
        else:
            order_transition(order=order, to=OrderState.COMPLETED, actor=None, reason=_("The server is ready."))
            audit_record(
                actor=None, action="orders.order.complete", target=order, organisation_id=order.organisation_id
            )
    return order


def order_sync_on_instance_change(*, instance_id: int, before: str, after: str, **_kwargs: Any) -> None:
    """Receiver of ``instance_status_changed``: an instance left ``provisioning``, so its order follows."""
    if before != InstanceStatus.PROVISIONING or after == InstanceStatus.PROVISIONING:
        return
    for order in Order.objects.filter(instance_id=instance_id, state=OrderState.PROVISIONING):
        order_sync(order=order)


def order_sync_service(*, order: Order) -> Order:
    """Complete or cancel a provisioning managed-service order from its service's state. Idempotent.

    The service delivered (active, or already changing or suspended): the order
    is completed. The service ended before delivery (the customer cancelled it
    on its page, or staff terminated it): the order is cancelled. Billing
    follows the service (its price periods), never the order.
    """
    with transaction.atomic():
        order = order_lock(order)
        if order.state != OrderState.PROVISIONING or order.service_id is None:
            return order
        service = ManagedService.objects.get(pk=order.service_id)
        if service.state == ServiceState.PROVISIONING:
            return order
        if service.state in ENDED_STATES:
            reason = service.state_reason or _("The service ended before it was delivered.")
            order_transition(order=order, to=OrderState.CANCELLED, actor=None, reason=reason)
            audit_record(actor=None, action="orders.order.cancel", target=order, organisation_id=order.organisation_id)
            return order
        order.fulfilment_status = FulfilmentStatus.FULFILLED
        order.save(update_fields=["fulfilment_status", "updated_at"])
        order_transition(order=order, to=OrderState.COMPLETED, actor=None, reason=_("The service is delivered."))
        audit_record(actor=None, action="orders.order.complete", target=order, organisation_id=order.organisation_id)
    return order


def order_sync_on_service_change(*, service_id: int, **_kwargs: Any) -> None:
    """Receiver of the managed app's state change: the service's order follows."""
    for order in Order.objects.filter(service_id=service_id, state=OrderState.PROVISIONING):
        order_sync_service(order=order)


def orders_sync_provisioning() -> int:
    """Safety net (beat task ``orders.sync``): sync every provisioning VM order whose instance left
    ``provisioning``, and every managed order whose service did; returns how many changed. Reads in
    batches, so no run leaves any behind."""
    changed = 0
    services = (
        Order.objects.filter(state=OrderState.PROVISIONING, service__isnull=False)
        .exclude(service__state=ServiceState.PROVISIONING)
        .order_by("id")
    )
    last_id = 0
    while batch := list(services.filter(id__gt=last_id)[:SYNC_BATCH]):
        for order in batch:
            if order_sync_service(order=order).state != OrderState.PROVISIONING:
                changed += 1
        last_id = batch[-1].pk
    pending = (
        Order.objects.filter(state=OrderState.PROVISIONING, instance__isnull=False)
        .exclude(instance__status=InstanceStatus.PROVISIONING)
        .order_by("id")
    )
    last_id = 0
    while True:
        batch = list(pending.filter(id__gt=last_id)[:SYNC_BATCH])
        if not batch:
            return changed
        for order in batch:
            if order_sync(order=order).state != OrderState.PROVISIONING:
                changed += 1
        last_id = batch[-1].pk


# ---------------------------------------------------------------------------
# Managed services, fulfilled by staff
# ---------------------------------------------------------------------------
def order_fulfilment_start(*, order: Order, actor: Actor, notes: str = "") -> Order:
    """Staff took a managed-service order in hand: from now on the customer cannot cancel the order
    (they cancel the service on its page once it is delivered). Delivery itself is the service's
    (``apps.managed.services.service_deliver``), which completes the order."""
    with transaction.atomic():
        order = order_lock(order)
        if order.state != OrderState.PROVISIONING or order.fulfilment_status != FulfilmentStatus.QUEUED:
            raise Conflict(_("Only queued service orders can be started."), code=OrderErrorCode.INVALID_TRANSITION)
        order.fulfilment_status = FulfilmentStatus.IN_PROGRESS
        if notes:
            order.fulfilment_notes = notes
        order.save(update_fields=["fulfilment_status", "fulfilment_notes", "updated_at"])
        audit_record(
            actor=actor,
            action="orders.order.fulfilment_start",
            target=order,
            organisation_id=order.organisation_id,
            actor_kind=ActorKind.STAFF,
        )
    return order
