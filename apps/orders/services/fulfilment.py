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
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalogue.models import Offer
from apps.core.actors import Actor, actor_user
from apps.core.choices import ActorKind
from apps.core.errors import ApplicationError, Conflict, ValidationFailed
from apps.core.services import audit_record, task_enqueue
from apps.firewalls import services as firewall_services
from apps.firewalls.models import Firewall, FirewallServer
from apps.infrastructure import services as placement
from apps.infrastructure.models import Reservation
from apps.infrastructure.rules import crypto
from apps.instances import services as instance_services
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.managed import services as managed_services
from apps.managed.choices import ENDED_STATES, ServiceState
from apps.managed.models import ManagedService
from apps.networks import services as network_services
from apps.networks.models import LIVE as LIVE_ATTACHMENT
from apps.networks.models import Attachment, Network
from apps.orders import task_names
from apps.orders.choices import FulfilmentStatus, OptionsStatus, OrderErrorCode, OrderState
from apps.orders.models import Order
from apps.orders.rules.offers import is_vm_offer
from apps.orders.selectors.checks import is_service_offer
from apps.orders.services.transitions import order_lock, order_transition
from apps.volumes import services as volume_services
from apps.volumes.models import Volume

# Orders the safety net re-reads per query (``orders_sync_provisioning``).
SYNC_BATCH = 200
# Options left ``applying`` this long are taken as lost with their worker and applied again (idempotent).
OPTIONS_STALE = timedelta(minutes=10)


# ---------------------------------------------------------------------------
# Start delivery
# ---------------------------------------------------------------------------
def order_reserve(*, order: Order, actor: Actor) -> Reservation:
    """Reserve capacity for a VM order through placement (``Unavailable`` when there is none)."""
    if order.image is None:  # rules.offers.check_image refuses VM orders without an image
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
    if is_vm_offer(order.offer):
        order_transition(order=order, to=OrderState.PROVISIONING, actor=actor, reason=reason)
        _deliver_vm(order=order, actor=actor)
    else:
        if is_service_offer(order.offer) and order.service_id is None:
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
        labels=order.labels or None,
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
            if order.has_options and not order.options_status:
                order.options_status = OptionsStatus.PENDING
                order.save(update_fields=["options_status", "updated_at"])
                task_enqueue(task_names.APPLY_OPTIONS, order.pk)
    return order


def order_options_apply(*, order_id: int) -> Order | None:
    """Join the networks, apply the firewalls and create and attach the volumes ordered with a server.

    Run by the task ``orders.apply_options`` once the order completed (its server runs). Claimed with one
    conditional UPDATE (``pending`` → ``applying``), so two workers never both run it; each option is
    skipped when already in place (its key in ``options_done``, or found on the server), so a run cut short
    and started again by the safety net (``orders_sync_provisioning``) never applies one twice. A refusal is
    written on the order (``options_errors``, shown to the customer) and the server is kept. The platform
    acts (actor None): the customer's rights were checked when they ordered.
    """
    claimed = Order.objects.filter(pk=order_id, options_status=OptionsStatus.PENDING).update(
        options_status=OptionsStatus.APPLYING, updated_at=timezone.now()
    )
    if not claimed:
        return None
    order = Order.objects.select_related("organisation", "project", "datacentre", "instance").get(pk=order_id)
    instance = order.instance
    done: list[str] = list(order.options_done or [])
    errors: list[str] = []

    def step(key: str, label: str, apply: Any) -> None:
        if key in done:
            return
        try:
            with transaction.atomic():
                apply()
        except ApplicationError as exc:
            errors.append(f"{label}: {exc.message}")
            return
        done.append(key)
        Order.objects.filter(pk=order.pk).update(options_done=done, updated_at=timezone.now())

    if instance is None:
        errors.append(str(_("The server is gone.")))
    else:
        for network in Network.objects.filter(public_id__in=order.network_ids).order_by("pk"):

            def attach(network: Network = network) -> None:
                if not Attachment.objects.filter(LIVE_ATTACHMENT, network=network, instance=instance).exists():
                    network_services.network_attach(actor=None, network=network, server=instance)

            step(f"network:{network.public_id}", _("Network %(name)s") % {"name": network.name}, attach)
        for firewall in Firewall.objects.filter(public_id__in=order.firewall_ids).order_by("pk"):

            def apply_firewall(firewall: Firewall = firewall) -> None:
                if not FirewallServer.objects.filter(firewall=firewall, instance=instance, direct=True).exists():
                    firewall_services.firewall_apply_to(firewall=firewall, actor=None, servers=[instance])

            step(f"firewall:{firewall.public_id}", _("Firewall %(name)s") % {"name": firewall.name}, apply_firewall)
        for index, spec in enumerate(order.volumes or []):
            name = f"{order.name}-vol{index + 1}"

            def create_volume(spec: dict[str, Any] = spec, name: str = name) -> None:
                if Volume.objects.filter(project=order.project, name=name, server=instance).exists():
                    return
                tier = Offer.objects.get(code=spec["tier"])
                volume_services.volume_create(
                    actor=None,
                    organisation=order.organisation,
                    project=order.project,
                    name=name,
                    tier=tier,
                    size_gb=int(spec["size_gb"]),
                    datacentre=order.datacentre,
                    server=instance,
                )

            step(f"volume:{index}", _("Volume %(name)s") % {"name": name}, create_volume)
    status = OptionsStatus.FAILED if errors else OptionsStatus.APPLIED
    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(
            options_status=status, options_done=done, options_errors=errors, updated_at=timezone.now()
        )
        audit_record(
            actor=None,
            action="orders.order.options_apply",
            target=order,
            organisation_id=order.organisation_id,
            changes={"applied": done, "failed": errors},
        )
    order.refresh_from_db()
    return order


def order_options_retry(*, order: Order, actor: Actor) -> Order:
    """Staff apply again the options of an order whose options ``failed`` (a network available again, a volume
    quota raised): the failed ones are tried again, those applied are skipped (``options_done``)."""
    with transaction.atomic():
        won = Order.objects.filter(pk=order.pk, options_status=OptionsStatus.FAILED).update(
            options_status=OptionsStatus.PENDING, options_errors=[], updated_at=timezone.now()
        )
        if not won:
            raise Conflict(_("Only options that failed can be applied again."), code=OrderErrorCode.INVALID_TRANSITION)
        audit_record(
            actor=actor,
            action="orders.order.options_retry",
            target=order,
            organisation_id=order.organisation_id,
            actor_kind=ActorKind.STAFF,
        )
        task_enqueue(task_names.APPLY_OPTIONS, order.pk)
    order.refresh_from_db()
    return order


def order_options_resume(*, now: Any = None) -> int:
    """Safety net: send the options task again for orders left ``pending`` (a task lost with the broker) or
    ``applying`` for ``OPTIONS_STALE`` (a worker lost mid-run: put back to ``pending`` first)."""
    now = now or timezone.now()
    stale = list(
        Order.objects.filter(options_status=OptionsStatus.APPLYING, updated_at__lt=now - OPTIONS_STALE)
        .order_by("pk")
        .values_list("pk", flat=True)[:SYNC_BATCH]
    )
    Order.objects.filter(pk__in=stale, options_status=OptionsStatus.APPLYING).update(
        options_status=OptionsStatus.PENDING, updated_at=now
    )
    lost = list(
        Order.objects.filter(options_status=OptionsStatus.PENDING, updated_at__lt=now - timedelta(minutes=1))
        .order_by("pk")
        .values_list("pk", flat=True)[:SYNC_BATCH]
    )
    ids = sorted({*stale, *lost})
    for order_id in ids:
        task_enqueue(task_names.APPLY_OPTIONS, order_id)
    return len(ids)


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


def order_sync_on_service_fulfilment(*, service_id: int, **_kwargs: Any) -> Order | None:
    """Staff started delivering the service by hand (``apps.managed.signals.service_fulfilment_started``).

    Its queued order is in progress from now on, as when staff start it from the orders queue
    (``order_fulfilment_start``): the customer can no longer cancel the order and cancels the service
    on its page instead. Idempotent: an order already started, or no longer provisioning, is left alone.
    """
    order = Order.objects.filter(service_id=service_id).first()
    if order is None:
        return None
    with transaction.atomic():
        order = order_lock(order)
        if order.state != OrderState.PROVISIONING or order.fulfilment_status != FulfilmentStatus.QUEUED:
            return order
        order.fulfilment_status = FulfilmentStatus.IN_PROGRESS
        order.save(update_fields=["fulfilment_status", "updated_at"])
        audit_record(
            actor=None,
            action="orders.order.fulfilment_start",
            target=order,
            organisation_id=order.organisation_id,
            changes={"from": "service"},
        )
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
