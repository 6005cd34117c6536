"""Placing and cancelling an order (the customer's writes).

Placing an order (``order_place``), in one transaction:

1. insert the order row first (``pending``). With an ``Idempotency-Key``
   the unique constraint on (organisation, key) makes a concurrent request
   with the same key wait on PostgreSQL's unique index until this
   transaction ends, then fail with ``IntegrityError``, and it replays the
   order this one created instead ("insert first", as Stripe and the IETF
   draft-ietf-httpapi-idempotency-key-header describe; ``idempotency``);
2. lock the organisation row, then check quotas: two orders of one
   organisation cannot both slip under the limit;
3. reserve capacity through placement (VM offers) before anything is
   charged or created; ``Unavailable`` rolls the whole order back;
4. freeze the prices and decide: flagged orders wait in
   ``awaiting_approval`` (capacity stays reserved), the others start
   provisioning at once (``fulfilment.order_start``).

Locks are taken in one order (order key, organisation, placement's own
order) so two placements cannot deadlock. The checks of the name, user-data
and SSH keys are the servers' own (``apps.instances``, through ``rules`` and
``services.checks``); the other checks are ``rules`` and ``selectors.checks``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.catalogue.choices import BillingUnit, FamilyKind
from apps.catalogue.models import Datacentre, GpuSoftwareStack, Offer, OsImage
from apps.core.actors import Actor, actor_user
from apps.core.errors import Conflict, PermissionDenied, ValidationFailed
from apps.core.services import audit_record
from apps.infrastructure.rules import crypto
from apps.managed import services as managed_services
from apps.managed.choices import ServiceState
from apps.managed.models import ManagedService
from apps.orders import selectors
from apps.orders.choices import OrderErrorCode, OrderFlag, OrderState
from apps.orders.models import Order, OrderBlock
from apps.orders.rules.names import check_hostname
from apps.orders.rules.offers import check_image, is_vm_offer
from apps.orders.selectors.checks import (
    check_networks_reachable,
    check_offer_place,
    check_options,
    check_service,
    is_service_offer,
)
from apps.orders.selectors.gpu_risk import gpu_risk_flags
from apps.orders.services.checks import check_ssh_keys, check_user_data
from apps.orders.services.fulfilment import order_reserve, order_start
from apps.orders.services.idempotency import (
    idempotency_key_clean,
    order_replay,
    order_response_remember,
    request_fingerprint,
)
from apps.orders.services.transitions import (
    order_lock,
    order_reservation_release,
    order_transition,
    order_transition_record,
)
from apps.teams.access import raise_suspended, require_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation, Project


def order_authorise(*, actor: Actor, organisation: Organisation, project: Project) -> None:
    """Who may order: ``resources.write`` on the project, in an organisation that is not suspended."""
    if project.organisation_id != organisation.pk:
        raise ValidationFailed(
            _("This project does not belong to the organisation."), fields={"project": [_("Unknown project.")]}
        )
    if organisation.is_suspended:
        raise_suspended(organisation)
    require_permission(actor, organisation, Permission.RESOURCES_WRITE, obj=project)


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
    service: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    network_ids: Sequence[uuid.UUID | str] = (),
    firewall_ids: Sequence[uuid.UUID | str] = (),
    volumes: Sequence[Mapping[str, Any]] = (),
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
    order_authorise(actor=actor, organisation=organisation, project=project)
    return order_place_authorised(
        actor=actor,
        organisation=organisation,
        project=project,
        offer=offer,
        datacentre=datacentre,
        image=image,
        name=name,
        ssh_keys=ssh_keys,
        user_data=user_data,
        gpu_stack=gpu_stack,
        service=service,
        labels=labels,
        network_ids=network_ids,
        firewall_ids=firewall_ids,
        volumes=volumes,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )


def order_place_authorised(
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
    service: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    network_ids: Sequence[uuid.UUID | str] = (),
    firewall_ids: Sequence[uuid.UUID | str] = (),
    volumes: Sequence[Mapping[str, Any]] = (),
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> Order:
    """``order_place`` once ``order_authorise`` let the actor order (the API checks it before the body)."""
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
            **({"service": dict(service)} if service else {}),
            **({"labels": dict(labels)} if labels else {}),
            **({"network_ids": sorted(str(i) for i in network_ids)} if network_ids else {}),
            **({"firewall_ids": sorted(str(i) for i in firewall_ids)} if firewall_ids else {}),
            **({"volumes": [dict(v) for v in volumes]} if volumes else {}),
        }
    )
    if key:
        existing = Order.objects.filter(organisation=organisation, idempotency_key=key).first()
        if existing is not None:
            return order_replay(existing, fingerprint)

    service_config, service_secrets, options = _validate(
        organisation=organisation,
        project=project,
        offer=offer,
        datacentre=datacentre,
        image=image,
        gpu_stack=gpu_stack,
        name=name,
        ssh_key_ids=ssh_key_ids,
        user_data=user_data,
        service=service,
        options={"labels": labels, "network_ids": network_ids, "firewall_ids": firewall_ids, "volumes": volumes},
    )
    try:
        with transaction.atomic():
            order = Order.objects.create(
                organisation=organisation,
                project=project,
                created_by=actor_user(actor),  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
                offer=offer,
                datacentre=datacentre,
                image=image,
                gpu_stack=gpu_stack,
                name=name,
                ssh_key_ids=ssh_key_ids,
                user_data=user_data,
                **options,
                service_config=service_config,
                # Encrypted until the service holds them (a flagged order waits for approval first).
                service_secrets=crypto.encrypt(json.dumps(service_secrets)) if service_secrets else "",
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
        return order_replay(existing, fingerprint)
    return order


def order_submit(
    *,
    actor: Actor,
    project: Project | None,
    idempotency_key: str | None,
    body: Any,
    validate: Callable[[], Mapping[str, Any]],
    render: Callable[[Order], dict[str, Any]],
) -> tuple[int, dict[str, Any]]:
    """Place an order from an API request; returns the response (status, body) to send.

    In this order: the ``Idempotency-Key`` (400 when too long); who may order
    (403 for a role that may not, before anything about the body); the body
    (``validate``: the interface's input checks, 400); then ``order_place``.
    202 when provisioning started, 201 when the order waits for approval. With
    a key, the first response (``render`` of the order) is stored, and a
    request repeating the key and the body (``request_fingerprint``) gets it
    verbatim; the key with another body is a 422.
    """
    key = idempotency_key_clean(idempotency_key)
    if project is not None:
        order_authorise(actor=actor, organisation=project.organisation, project=project)
    values = validate()
    if project is None:
        raise ValidationFailed(_("The order is not valid."), fields={"project": [_("Unknown project.")]})
    order = order_place_authorised(
        actor=actor,
        organisation=project.organisation,
        project=project,
        idempotency_key=key or None,
        request_hash=request_fingerprint(body) if key else None,
        **values,
    )
    if order.response_status is not None:  # a replay: the first response, verbatim
        return order.response_status, dict(order.response_body or {})
    status = 202 if order.state == OrderState.PROVISIONING else 201
    return order_response_remember(order=order, status=status, body=render(order))


def _validate(
    *,
    organisation: Organisation,
    project: Project,
    offer: Offer,
    datacentre: Datacentre,
    image: OsImage | None,
    gpu_stack: GpuSoftwareStack | None,
    name: str,
    ssh_key_ids: list[str],
    user_data: str,
    service: Mapping[str, Any] | None,
    options: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """Every problem of the order at once (400); for a managed service, its clean configuration and secrets;
    a server's clean options (``selectors.checks.check_options``)."""
    errors: dict[str, list[str]] = {}
    if user_data and not is_vm_offer(offer):
        user_data_errors: dict[str, list[str]] = {"user_data": [_("This product does not take cloud-init user-data.")]}
        user_data_code = None
    else:
        user_data_errors, user_data_code = check_user_data(user_data, datacentre=datacentre)
    service_errors, service_config, service_secrets = check_service(
        organisation=organisation, offer=offer, name=name, service=service
    )
    options_errors, options_clean = check_options(
        organisation=organisation,
        project=project,
        offer=offer,
        datacentre=datacentre,
        labels=options.get("labels"),
        network_ids=options.get("network_ids") or (),
        firewall_ids=options.get("firewall_ids") or (),
        volumes=options.get("volumes") or (),
    )
    for found in (
        check_offer_place(offer=offer, datacentre=datacentre),
        check_image(offer=offer, image=image, gpu_stack=gpu_stack),
        check_hostname(name, single_label=is_vm_offer(offer)),
        user_data_errors,
        check_ssh_keys(organisation=organisation, offer=offer, ssh_key_ids=ssh_key_ids),
        service_errors,
        options_errors,
    ):
        for field, messages in found.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        # A datacentre that cannot take user-data yet is its own documented code (instances.md "User-data").
        if set(errors) == {"user_data"} and user_data_code == "user_data_unavailable":
            raise ValidationFailed(errors["user_data"][0], fields=errors, code=user_data_code)
        raise ValidationFailed(_("The order is not valid."), fields=errors)
    return service_config, service_secrets, options_clean


def _check_not_blocked(*, organisation: Organisation) -> None:
    reasons = list(OrderBlock.objects.filter(organisation=organisation).values_list("reason", flat=True))
    if reasons:
        raise PermissionDenied(
            _("New orders are blocked for this organisation: %(reasons)s") % {"reasons": " ".join(reasons)},
            code=OrderErrorCode.ORDERS_BLOCKED,
        )


def _check_quota(*, order: Order) -> None:
    offer = order.offer
    if is_service_offer(offer):
        # The organisation's live services quota (apps.managed), counting the service orders still
        # waiting for approval: each becomes a service when approved (409 ``quota_exceeded``).
        waiting = (
            Order.objects.filter(
                organisation_id=order.organisation_id, state=OrderState.AWAITING_APPROVAL, service__isnull=True
            )
            .exclude(pk=order.pk)
            .filter(offer__family__kind=FamilyKind.MANAGED_SERVICE)
            .exclude(offer__billing_unit=BillingUnit.GB_MONTH)
            .count()
        )
        managed_services.service_quota_check(organisation=order.organisation, add=1 + waiting)
        return
    if not is_vm_offer(offer):
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
        # The GPU risk policy staff tune in the back office (apps.orders.selectors.gpu_risk).
        flags.extend(gpu_risk_flags(organisation=order.organisation))
    return flags


def _place(*, order: Order, actor: Actor) -> None:
    """Inside order_place's transaction: quotas, capacity, then start or wait for approval."""
    Organisation.objects.select_for_update(no_key=True).filter(pk=order.organisation_id).values_list("pk").first()
    _check_quota(order=order)
    order_transition_record(order=order, from_state="", actor=actor, reason=_("Order placed."))
    if is_vm_offer(order.offer):
        # Reserve before anything is created or charged; Unavailable rolls the order back.
        order.reservation = order_reserve(order=order, actor=actor)
        order.save(update_fields=["reservation", "updated_at"])
        check_networks_reachable(network_ids=order.network_ids, cluster_id=order.reservation.cluster_id)
    order.flags = _flags(order=order)
    audit_record(
        actor=actor,
        action="orders.order.place",
        target=order,
        organisation_id=order.organisation_id,
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
        order_transition(order=order, to=OrderState.AWAITING_APPROVAL, actor=None, reason=labels)
    else:
        order_start(order=order, actor=actor, reason=_("Order accepted."))


def order_cancel(*, order: Order, actor: Actor, reason: str = "") -> Order:
    """Cancel while pending, awaiting approval or failed, or a managed service's order still queued.

    The reserved capacity is released. A queued managed-service order (staff
    have not started on it) cancels its service too, which was never delivered
    nor billed (``apps.managed.services.service_cancel``).
    """
    require_permission(actor, order.organisation, Permission.RESOURCES_WRITE, obj=order)
    with transaction.atomic():
        order = order_lock(order)
        # The service under its own lock (after the order's: the order every path takes), so staff delivering
        # it meanwhile is seen here: a delivered, billed service is never cancelled through its order.
        service = (
            managed_services.service_lock(ManagedService(pk=order.service_id)) if order.service_id is not None else None
        )
        if not order.is_cancellable or (service is not None and service.state != ServiceState.PROVISIONING):
            if order.state == OrderState.PROVISIONING and order.fulfilment_status:
                message = _("Our staff have started delivering this service: cancel the service on its page instead.")
            else:
                message = _("This order can no longer be cancelled: it is %(state)s.") % {
                    "state": order.get_state_display()
                }
            raise Conflict(message, code=OrderErrorCode.NOT_CANCELLABLE)
        if service is not None:
            managed_services.service_cancel(
                service=service,
                actor=actor,
                confirm_name=service.name,
                reason=reason or _("The order was cancelled before delivery."),
            )
        order_reservation_release(order=order, actor=actor)
        order_transition(
            order=order, to=OrderState.CANCELLED, actor=actor, reason=reason or _("Cancelled by the customer.")
        )
        audit_record(actor=actor, action="orders.order.cancel", target=order, organisation_id=order.organisation_id)
    return order
