"""Reads of orders: quotes, the actor's orders, quota usage, and the staff queues."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from apps.catalogue.choices import FamilyKind
from apps.catalogue.models import Datacentre, GpuSoftwareStack, Offer, OsImage
from apps.core.actors import Actor
from apps.core.errors import NotFound
from apps.infrastructure.choices import UnavailableCode
from apps.infrastructure.selectors import offer_availability
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.orders import choices
from apps.orders.models import Order, OrganisationQuota
from apps.orders.rules.offers import check_image, is_vm_offer
from apps.orders.selectors.checks import check_offer_place
from apps.teams.access import object_get_for_actor, restrict_to_actor
from apps.teams.choices import Permission
from apps.teams.models import Organisation

NO_TEMPLATE = UnavailableCode.NO_TEMPLATE


# ---------------------------------------------------------------------------
# Quotes
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Quote:
    """A price preview with live availability; building it changes nothing."""

    offer: Offer
    datacentre: Datacentre
    image: OsImage | None
    gpu_stack: GpuSoftwareStack | None
    price_hourly: Decimal
    price_monthly: Decimal
    currency: str
    billing_unit: str
    availability: str  # available | limited | unavailable | on_request (managed services)
    available_count: int | None
    unavailable_reason: str
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def orderable(self) -> bool:
        return not self.errors and self.availability != "unavailable"


def quote_build(
    *, offer: Offer, datacentre: Datacentre, image: OsImage | None = None, gpu_stack: GpuSoftwareStack | None = None
) -> Quote:
    """Price (from the catalogue) and availability (from placement's ledger) of one configuration.

    Validation problems are returned in ``errors`` rather than raised, so a
    wizard can show them beside the price.
    """
    errors = check_offer_place(offer=offer, datacentre=datacentre)
    for key, messages in check_image(offer=offer, image=image, gpu_stack=gpu_stack).items():
        errors.setdefault(key, []).extend(messages)
    if is_vm_offer(offer):
        # Per offer, datacentre and image: a configuration no template builds is unavailable (no_template).
        avail = offer_availability(
            offer=offer, datacentre=datacentre, image=image if "image" not in errors else None, gpu_stack=gpu_stack
        )
        level, count, reason = avail.level, avail.count, avail.reason
        if reason == NO_TEMPLATE and image is not None and "image" not in errors:
            what = gpu_stack.name if gpu_stack is not None else str(image)
            errors.setdefault("image", []).append(
                _("%(image)s cannot be built for %(offer)s in %(dc)s: choose one of the images offered there.")
                % {"image": what, "offer": offer.code, "dc": datacentre.code}
            )
    else:
        # Managed services are delivered by staff: not counted by placement.
        level, count, reason = "on_request", None, ""
    return Quote(
        offer=offer,
        datacentre=datacentre,
        image=image,
        gpu_stack=gpu_stack,
        price_hourly=offer.price_hourly,
        price_monthly=offer.price_monthly,
        currency="EUR",
        billing_unit=offer.billing_unit,
        availability=level,
        available_count=count,
        unavailable_reason=reason,
        errors=errors,
    )


# ---------------------------------------------------------------------------
# Orders of the actor
# ---------------------------------------------------------------------------
def _order_queryset() -> QuerySet[Order]:
    return Order.objects.select_related(
        "organisation",
        "project",
        "offer",
        "offer__family",
        "datacentre",
        "image",
        "gpu_stack",
        "created_by",
        "instance",
        "service",
    )


def order_list(*, actor: Actor, organisation: Organisation | None = None, state: str | None = None) -> QuerySet[Order]:
    """Orders in projects the actor may read (the teams permission layer), newest first."""
    qs = restrict_to_actor(_order_queryset(), actor=actor, permission=Permission.RESOURCES_READ)
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def order_get(*, actor: Actor, order_id: uuid.UUID | str, permission: Permission = Permission.RESOURCES_READ) -> Order:
    """One order by its public id: 404 unless the actor can read it, 403 without ``permission``."""
    try:
        pk = Order.objects.filter(public_id=order_id).values_list("pk", flat=True).first()
    except (ValueError, ValidationError) as exc:  # a malformed UUID is simply not found
        raise NotFound(_("Order not found.")) from exc
    if pk is None:
        raise NotFound(_("Order not found."))
    return object_get_for_actor(_order_queryset(), actor=actor, pk=pk, permission=permission)


# ---------------------------------------------------------------------------
# Quotas
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class QuotaUsage:
    max_instances: int
    max_gpus: int
    instances: int
    gpus: int


def quota_usage(*, organisation: Organisation, exclude: Order | None = None) -> QuotaUsage:
    """Limits, and what counts against them: live instances plus open VM orders not yet delivered.

    ``exclude``: an order not to count (the one being checked).
    """
    defaults = settings.ORDERS_DEFAULT_QUOTAS
    row = OrganisationQuota.objects.filter(organisation=organisation).first()
    max_instances = row.max_instances if row and row.max_instances is not None else defaults["max_instances"]
    max_gpus = row.max_gpus if row and row.max_gpus is not None else defaults["max_gpus"]
    gpu_sum = Sum("offer__gpu_count", filter=Q(offer__gpu_model__isnull=False))
    live = Instance.objects.filter(organisation=organisation).exclude(status=InstanceStatus.DELETED)
    open_orders = Order.objects.filter(
        organisation=organisation,
        offer__family__kind=FamilyKind.VIRTUAL_MACHINE,
        state__in=choices.OPEN_STATES,
        instance__isnull=True,
    )
    if exclude is not None:
        open_orders = open_orders.exclude(pk=exclude.pk)
    live_totals = live.aggregate(n=Count("id"), gpus=gpu_sum)
    open_totals = open_orders.aggregate(n=Count("id"), gpus=gpu_sum)
    return QuotaUsage(
        max_instances=max_instances,
        max_gpus=max_gpus,
        instances=live_totals["n"] + open_totals["n"],
        gpus=(live_totals["gpus"] or 0) + (open_totals["gpus"] or 0),
    )


# ---------------------------------------------------------------------------
# Staff queues (admin)
# ---------------------------------------------------------------------------
def approval_queue() -> QuerySet[Order]:
    """Flagged orders waiting for a staff decision, oldest first."""
    return _order_queryset().filter(state=choices.OrderState.AWAITING_APPROVAL).order_by("created_at", "id")


def fulfilment_queue() -> QuerySet[Order]:
    """Managed-service orders staff still have to deliver, oldest first."""
    return (
        _order_queryset()
        .filter(
            state=choices.OrderState.PROVISIONING,
            fulfilment_status__in=[choices.FulfilmentStatus.QUEUED, choices.FulfilmentStatus.IN_PROGRESS],
        )
        .order_by("created_at", "id")
    )
