"""Catalogue reads: public offer lists with filters, reference lists, the cache version, the pricing Markdown.

The catalogue is public data: these selectors take no actor. Public lists show
active offers only; a hidden offer is reachable by its code (``offer_get_public``);
a retired one only through ``offer_get`` (orders and instances keep pointing at it).
Every list runs a constant number of SQL queries whatever the number of rows
(``select_related`` / ``prefetch_related``; tests/catalogue/test_api.py asserts it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Max, Min, Model, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from apps.catalogue import choices
from apps.catalogue.models import (
    CapacityEnvelope,
    Datacentre,
    DatacentreGpuModel,
    GpuModel,
    GpuSoftwareStack,
    Offer,
    OsImage,
    ProductFamily,
)
from apps.catalogue.rules import specs
from apps.core.errors import NotFound

PUBLIC_STATUSES = (choices.OfferStatus.ACTIVE,)
ORDERABLE_BY_CODE_STATUSES = (choices.OfferStatus.ACTIVE, choices.OfferStatus.HIDDEN)


@dataclass(frozen=True)
class OfferFilters:
    """Filters of the public offer list; ``None`` means "no filter"."""

    family: ProductFamily | None = None
    gpu_model: GpuModel | None = None
    datacentre: Datacentre | None = None
    tier: str | None = None
    min_vcpu: int | None = None
    min_ram_gb: int | None = None
    min_price_monthly: Decimal | None = None
    max_price_monthly: Decimal | None = None


def _offer_queryset() -> QuerySet[Offer]:
    return Offer.objects.select_related("family", "gpu_model").prefetch_related(
        Prefetch("datacentres", queryset=Datacentre.objects.order_by("position", "code"))
    )


def offer_list(*, filters: OfferFilters | None = None, statuses: tuple[str, ...] = PUBLIC_STATUSES) -> QuerySet[Offer]:
    """Offers in ``statuses`` matching ``filters``, in catalogue order."""
    qs = _offer_queryset().filter(status__in=statuses)
    f = filters or OfferFilters()
    if f.family is not None:
        qs = qs.filter(family_id=f.family.pk)
    if f.gpu_model is not None:
        qs = qs.filter(gpu_model_id=f.gpu_model.pk)
    if f.datacentre is not None:
        # A subquery, not a join: a join on the M2M could repeat rows.
        qs = qs.filter(
            pk__in=Offer.datacentres.through.objects.filter(datacentre_id=f.datacentre.pk).values("offer_id")
        )
    if f.tier:
        qs = qs.filter(tier=f.tier)
    if f.min_vcpu is not None:
        qs = qs.filter(vcpu__gte=f.min_vcpu)
    if f.min_ram_gb is not None:
        qs = qs.filter(ram_gb__gte=f.min_ram_gb)
    if f.min_price_monthly is not None:
        qs = qs.filter(price_monthly__gte=f.min_price_monthly)
    if f.max_price_monthly is not None:
        qs = qs.filter(price_monthly__lte=f.max_price_monthly)
    return qs.order_by("family__position", "position", "code")


def offer_list_public(*, filters: OfferFilters | None = None) -> QuerySet[Offer]:
    """What anyone may see listed: active offers only."""
    return offer_list(filters=filters, statuses=PUBLIC_STATUSES)


def offer_get_public(*, code: str) -> Offer:
    """An active or hidden offer by code (hidden offers are orderable by direct code); else NotFound."""
    offer = _offer_queryset().filter(code=code, status__in=ORDERABLE_BY_CODE_STATUSES).first()
    if offer is None:
        raise NotFound(_("No offer with this code."))
    return offer


def offer_get(*, code: str) -> Offer:
    """Any offer by code, retired ones included (for orders and instances already sold)."""
    offer = _offer_queryset().filter(code=code).first()
    if offer is None:
        raise NotFound(_("No offer with this code."))
    return offer


def offers_by_codes_public(*, codes: list[str]) -> list[Offer]:
    """Active offers among ``codes``, in the order given (unknown codes are dropped)."""
    found = {o.code: o for o in offer_list_public().filter(code__in=codes)}
    return [found[c] for c in codes if c in found]


def family_list() -> QuerySet[ProductFamily]:
    """Families with the count and monthly price range of their active offers (one query)."""
    active = Q(offers__status__in=PUBLIC_STATUSES)
    return ProductFamily.objects.annotate(
        active_offer_count=Count("offers", filter=active),
        price_monthly_min=Min("offers__price_monthly", filter=active),
        price_monthly_max=Max("offers__price_monthly", filter=active),
    ).order_by("position", "slug")


def family_get_public(*, slug: str) -> ProductFamily:
    """A family with its active offers prefetched as ``public_offers``."""
    family = (
        family_list()
        .prefetch_related(Prefetch("offers", queryset=offer_list_public(), to_attr="public_offers"))
        .filter(slug=slug)
        .first()
    )
    if family is None:
        raise NotFound(_("No product family with this slug."))
    return family


def families_with_offers(*, filters: OfferFilters | None = None) -> list[tuple[ProductFamily, list[Offer]]]:
    """Families in order, each with its public offers matching ``filters``; families with none are left out."""
    families = list(family_list())
    by_family: dict[int, list[Offer]] = {f.pk: [] for f in families}
    for offer in offer_list_public(filters=filters):
        by_family[offer.family_id].append(offer)
    return [(f, by_family[f.pk]) for f in families if by_family[f.pk]]


def image_list(*, include_deprecated: bool = False) -> QuerySet[OsImage]:
    qs = OsImage.objects.all()
    if not include_deprecated:
        qs = qs.filter(status=choices.ImageStatus.AVAILABLE)
    return qs.order_by("position", "family", "version")


def gpu_stack_list(*, include_deprecated: bool = False) -> QuerySet[GpuSoftwareStack]:
    qs = GpuSoftwareStack.objects.select_related("base_image")
    if not include_deprecated:
        qs = qs.filter(status=choices.ImageStatus.AVAILABLE)
    return qs.order_by("base_image__position", "cuda_version")


def image_get(*, slug: str) -> OsImage:
    """An image by slug, deprecated ones included (they are still named by servers); else NotFound."""
    image = OsImage.objects.filter(slug=slug).first()
    if image is None:
        raise NotFound(_("No image with this slug."))
    return image


def gpu_stack_get(*, slug: str) -> GpuSoftwareStack:
    stack = GpuSoftwareStack.objects.select_related("base_image").filter(slug=slug).first()
    if stack is None:
        raise NotFound(_("No GPU software stack with this slug."))
    return stack


@dataclass(frozen=True)
class ImageSlugs:
    """Slugs of every image and GPU stack by id, to render ids into public codes."""

    images: dict[int, str]
    stacks: dict[int, str]


def image_slugs() -> ImageSlugs:
    """Two small queries: the catalogue has a few dozen images and stacks."""
    return ImageSlugs(
        images=dict(OsImage.objects.values_list("pk", "slug")),
        stacks=dict(GpuSoftwareStack.objects.values_list("pk", "slug")),
    )


def datacentre_list() -> QuerySet[Datacentre]:
    """Datacentres with their GPU presence (model included) prefetched as ``gpu_presence``."""
    return Datacentre.objects.prefetch_related(
        Prefetch(
            "gpu_presence",
            queryset=DatacentreGpuModel.objects.select_related("gpu_model").order_by(
                "gpu_model__vram_gb", "gpu_model__name"
            ),
        )
    ).order_by("position", "code")


def datacentre_get(*, code: str) -> Datacentre:
    dc = Datacentre.objects.filter(code=code).first()
    if dc is None:
        raise NotFound(_("No datacentre with this code."))
    return dc


def gpu_model_list() -> QuerySet[GpuModel]:
    """GPU models with where they are present prefetched as ``datacentre_presence``."""
    return GpuModel.objects.prefetch_related(
        Prefetch(
            "datacentre_presence",
            queryset=DatacentreGpuModel.objects.select_related("datacentre").order_by(
                "datacentre__position", "datacentre__code"
            ),
        )
    ).order_by("vram_gb", "name")


def capacity_envelope_list() -> QuerySet[CapacityEnvelope]:
    return CapacityEnvelope.objects.select_related("gpu_model").order_by("resource", "gpu_model__name")


def capacity_envelope_get(*, resource: str, gpu_model: GpuModel | None = None) -> CapacityEnvelope | None:
    """The envelope of a resource (and GPU model for GPUs), or None when staff set none."""
    return CapacityEnvelope.objects.filter(resource=resource, gpu_model=gpu_model).first()


# ---------------------------------------------------------------------------
# Cache version: one query over every catalogue table.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueVersion:
    """What HTTP caches key on: the newest change and an ETag over it."""

    last_modified: datetime | None
    etag: str


def catalogue_version() -> CatalogueVersion:
    """Newest ``updated_at`` across the catalogue, and an ETag that also covers row counts and the language.

    Row counts catch deletions and the link tables (which have no
    ``updated_at``); the language is in the ETag because choice labels are
    translated. One query: a UNION ALL of per-table aggregates.
    """
    stamped: list[type[Model]] = [ProductFamily, GpuModel, Datacentre, Offer, OsImage, GpuSoftwareStack]
    unstamped: list[type[Model]] = [DatacentreGpuModel, Offer.datacentres.through]
    q = connection.ops.quote_name
    parts = [f"SELECT MAX(updated_at) AS u, COUNT(*) AS c FROM {q(m._meta.db_table)}" for m in stamped]  # noqa: S608
    parts += [f"SELECT NULL AS u, COUNT(*) AS c FROM {q(m._meta.db_table)}" for m in unstamped]  # noqa: S608
    # Table names come from model metadata, never from input.
    sql = "SELECT MAX(u), SUM(c) FROM (" + " UNION ALL ".join(parts) + ") AS catalogue_tables"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        raw_stamp, total = cursor.fetchone()
    stamp: datetime | None
    if isinstance(raw_stamp, str):  # SQLite hands back text
        stamp = parse_datetime(raw_stamp)
        if stamp is not None and timezone.is_naive(stamp):
            stamp = timezone.make_aware(stamp, UTC)
    else:
        stamp = raw_stamp
    key = f"{stamp.isoformat() if stamp else '-'}|{int(total or 0)}|{get_language() or ''}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return CatalogueVersion(last_modified=stamp, etag=f'"{digest}"')


# ---------------------------------------------------------------------------
# Availability hook. Placement lives in apps.infrastructure (above us in the
# layer order), so it registers a provider at start-up instead of being imported.
# ---------------------------------------------------------------------------

AvailabilityProvider = Callable[[Offer, Datacentre], "bool | None"]
_availability_provider: AvailabilityProvider | None = None


def availability_provider_register(provider: AvailabilityProvider | None) -> None:
    """Let the infrastructure layer answer "is there capacity for this offer here?" (None unregisters)."""
    global _availability_provider
    _availability_provider = provider


def offer_availability(*, offer: Offer, datacentre: Datacentre) -> bool | None:
    """Whether ``offer`` can be ordered in ``datacentre`` now.

    False when the catalogue alone says no (offer retired, not sold there,
    datacentre not operational); otherwise the registered provider's answer,
    or None ("unknown") when none is registered.
    """
    if not offer.is_orderable or not datacentre.is_operational:
        return False
    if not any(dc.pk == datacentre.pk for dc in offer.datacentres.all()):
        return False
    if _availability_provider is None:
        return None
    return _availability_provider(offer, datacentre)


# ---------------------------------------------------------------------------
# Markdown for the docs app's "Products and pricing" page.
# ---------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ") or "—"


def pricing_markdown() -> str:
    """Markdown tables of every family and its active offers, with hourly and monthly prices.

    The docs app renders this on its generated "Products and pricing" page, so
    the page follows the catalogue staff edit. Two queries.
    """
    lines: list[str] = []
    for family, offers in families_with_offers():
        lines.append(f"## {family.name}")
        lines.append("")
        if family.description:
            lines.append(family.description)
            lines.append("")
        cols = specs.columns_for(offers)
        per_gb = any(o.billing_unit == choices.BillingUnit.GB_MONTH for o in offers)
        hourly_label = _("Per GB per hour") if per_gb else _("Hourly")
        monthly_label = _("Per GB per month") if per_gb else _("Monthly (cap)")
        header = [_("Offer"), *[str(c.label) for c in cols], hourly_label, monthly_label]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(["---"] * (len(header) - 2) + ["---:", "---:"]) + "|")
        for offer in offers:
            row = [
                f"**{offer.code}**",
                *[c.read(offer) for c in cols],
                specs.fmt_money(offer.price_hourly),
                specs.fmt_money(offer.price_monthly),
            ]
            lines.append("| " + " | ".join(_md_cell(cell) for cell in row) + " |")
        lines.append("")
        for group in family.features or []:
            lines.append(f"**{group.get('title', '')}**")
            lines.append("")
            lines.extend(f"- {item}" for item in group.get("items", []))
            lines.append("")
    lines.append(
        _(
            "Prices in EUR excluding VAT. Hourly prices are billed per started hour and capped at the monthly "
            "price in each calendar month; see [Pricing rules](/docs/pricing-rules/)."
        )
    )
    return "\n".join(lines) + "\n"
