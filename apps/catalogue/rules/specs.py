"""How offer specs read to people: display strings and the columns of each family's table.

One place decides how "Unlimited", "1M+", "1.28 TB" or "< 0.5 ms" are written,
so the pricing page, the comparison view and the generated docs page
(``selectors.pricing_markdown``) agree. A column shows for a group of offers
when at least one of them has a value for it, so a family staff add later gets
sensible columns without code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from apps.catalogue import choices
from apps.core import formats

# The specs read the fields of catalogue.Offer; it is typed loosely so that this module imports no model
# (rules touch no database: docs/dev/style.md#app-shape).
Offer = Any


def fmt_decimal(value: Decimal) -> str:
    """A Decimal without trailing zeros: 99.900 -> "99.9", 1.000 -> "1"."""
    text = format(value.normalize(), "f")
    return text


def fmt_int(value: int) -> str:
    return f"{value:,}"


def fmt_compact(value: int) -> str:
    """10 000 -> "10K", 1 000 000 -> "1M" (the seed's notation for requests and IOPS)."""
    for size, suffix in ((1_000_000, "M"), (1_000, "K")):
        if value >= size and value % size == 0:
            return f"{value // size}{suffix}"
    return fmt_int(value)


def fmt_size_gb(gb: int) -> str:
    """Decimal storage size: 40 -> "40 GB", 1280 -> "1.28 TB", 5000 -> "5 TB"."""
    if gb >= 1000:
        return f"{fmt_decimal(Decimal(gb) / 1000)} TB"
    return f"{gb} GB"


def fmt_ram_gb(gb: int) -> str:
    """Binary RAM size: 64 -> "64 GB", 1024 -> "1 TB"."""
    if gb >= 1024 and gb % 1024 == 0:
        return f"{gb // 1024} TB"
    return f"{gb} GB"


def fmt_traffic_tb(tb: int) -> str:
    """Decimal traffic: 10 -> "10 TB", 1000 -> "1 PB"."""
    if tb >= 1000:
        return f"{fmt_decimal(Decimal(tb) / 1000)} PB"
    return f"{tb} TB"


def fmt_quantity(
    value: int | None, *, unlimited: bool = False, or_more: bool = False, render: Callable[[int], str] = fmt_int
) -> str:
    """A number that may be unlimited or open-ended ("150+")."""
    if unlimited:
        return _("Unlimited")
    if value is None:
        return ""
    return render(value) + ("+" if or_more else "")


def fmt_decimal_money(value: Decimal) -> str:
    """A money amount padded to 2, 4 or 6 decimals: 29 -> "29.00", 0.026 -> "0.0260", 0.000137 -> "0.000137"."""
    text = fmt_decimal(value)
    whole, _dot, frac = text.partition(".")
    width = next(w for w in (2, 4, 6, len(frac)) if len(frac) <= w)
    return f"{whole}.{frac.ljust(width, '0')}"


def fmt_money(value: Decimal) -> str:
    """EUR for people in the active language: en "€1,599.00", "€0.0397"; fr "1 599,00 €" (``apps.core.formats``)."""
    return formats.money(value)


def price_monthly_display(offer: Offer) -> str:
    if offer.billing_unit == choices.BillingUnit.GB_MONTH:
        return _("%(price)s /GB/month") % {"price": fmt_money(offer.price_monthly)}
    return _("%(price)s /month") % {"price": fmt_money(offer.price_monthly)}


def price_hourly_display(offer: Offer) -> str:
    if offer.billing_unit == choices.BillingUnit.GB_MONTH:
        return _("%(price)s /GB/hour") % {"price": fmt_money(offer.price_hourly)}
    return _("%(price)s /hour") % {"price": fmt_money(offer.price_hourly)}


# --- spec readers: each returns "" when the spec does not apply to the offer ---


def _gpu(o: Offer) -> str:
    if o.gpu_model is None or o.gpu_count is None:
        return ""
    return f"{o.gpu_count}× {o.gpu_model.name}"


def _storage(o: Offer) -> str:
    if o.disk_gb is None:
        return ""
    size = fmt_size_gb(o.disk_gb)
    return f"{size} {o.get_storage_type_display()}" if o.storage_type else size


def _storage_type_only(o: Offer) -> str:
    # Block storage offers have a type but no size (priced per GB).
    return o.get_storage_type_display() if o.storage_type and o.disk_gb is None else ""


def _containers(o: Offer) -> str:
    if o.paas_kubernetes_cluster:
        return _("Kubernetes cluster")
    return fmt_quantity(o.paas_containers)


def _ram_per_container(o: Offer) -> str:
    if o.paas_ram_configurable:
        return _("Configurable")
    return fmt_ram_gb(o.paas_ram_per_container_gb) if o.paas_ram_per_container_gb is not None else ""


@dataclass(frozen=True)
class Column:
    """One spec column: a stable key (CSS, tests), a label and a reader."""

    key: str
    label: StrOrPromise
    read: Callable[[Offer], str]
    detail_only: bool = False  # shown in the comparison view, not in the family tables


COLUMNS: Sequence[Column] = (
    Column("tier", gettext_lazy("Tier"), lambda o: o.get_tier_display()),
    Column("gpu", gettext_lazy("GPU"), _gpu),
    Column("vram", gettext_lazy("VRAM"), lambda o: fmt_ram_gb(o.gpu_vram_gb) if o.gpu_vram_gb else ""),
    Column("vcpu", gettext_lazy("vCPU"), lambda o: fmt_quantity(o.vcpu)),
    Column("cpu_model", gettext_lazy("CPU"), lambda o: o.cpu_model, detail_only=True),
    Column("ram", gettext_lazy("RAM"), lambda o: fmt_ram_gb(o.ram_gb) if o.ram_gb is not None else ""),
    Column("web_sites", gettext_lazy("Websites"), lambda o: fmt_quantity(o.web_sites, unlimited=o.web_sites_unlimited)),
    Column("storage", gettext_lazy("Storage"), _storage),
    Column(
        "bandwidth",
        gettext_lazy("Bandwidth"),
        lambda o: fmt_quantity(o.bandwidth_tb, unlimited=o.bandwidth_unlimited, render=fmt_traffic_tb),
    ),
    Column(
        "web_databases",
        gettext_lazy("Databases"),
        lambda o: fmt_quantity(o.web_databases, unlimited=o.web_databases_unlimited),
    ),
    Column(
        "web_mailboxes",
        gettext_lazy("Mailboxes"),
        lambda o: fmt_quantity(o.web_mailboxes, unlimited=o.web_mailboxes_unlimited),
    ),
    Column("paas_containers", gettext_lazy("Containers"), _containers),
    Column("paas_ram", gettext_lazy("RAM per container"), _ram_per_container),
    Column(
        "paas_deployments",
        gettext_lazy("Deployments per day"),
        lambda o: fmt_quantity(o.paas_deployments_per_day, unlimited=o.paas_deployments_per_day_unlimited),
    ),
    Column(
        "lb_backends",
        gettext_lazy("Backends"),
        lambda o: fmt_quantity(o.lb_backends, unlimited=o.lb_backends_unlimited),
    ),
    Column(
        "lb_rps",
        gettext_lazy("Requests/s"),
        lambda o: fmt_quantity(o.lb_requests_per_second, or_more=o.lb_requests_per_second_or_more, render=fmt_compact),
    ),
    Column("lb_protocols", gettext_lazy("Protocols"), lambda o: ", ".join(o.lb_protocols or [])),
    Column("storage_type", gettext_lazy("Type"), _storage_type_only),
    Column(
        "storage_iops",
        gettext_lazy("IOPS per TB"),
        lambda o: fmt_quantity(o.storage_iops_per_tb, or_more=o.storage_iops_per_tb_or_more, render=fmt_compact),
    ),
    Column(
        "storage_latency",
        gettext_lazy("Latency"),
        lambda o: f"< {fmt_decimal(o.storage_latency_ms)} ms" if o.storage_latency_ms is not None else "",
    ),
    Column(
        "cdn_pops",
        gettext_lazy("PoPs"),
        lambda o: fmt_quantity(o.cdn_pops, or_more=o.cdn_pops_or_more),
    ),
    Column("cdn_coverage", gettext_lazy("Coverage"), lambda o: o.get_cdn_coverage_display() if o.cdn_coverage else ""),
    Column(
        "cdn_traffic",
        gettext_lazy("Traffic included"),
        lambda o: fmt_traffic_tb(o.cdn_traffic_tb) if o.cdn_traffic_tb is not None else "",
    ),
    Column("cdn_waf", gettext_lazy("WAF"), lambda o: o.get_cdn_waf_display() if o.cdn_waf else ""),
    Column("sla", gettext_lazy("SLA"), lambda o: f"{fmt_decimal(o.sla_percent)}%" if o.sla_percent is not None else ""),
)


def columns_for(offers: Iterable[Offer], *, detail: bool = False) -> list[Column]:
    """The columns that have a value for at least one of ``offers``."""
    rows = list(offers)
    return [c for c in COLUMNS if (detail or not c.detail_only) and any(c.read(o) for o in rows)]


@dataclass(frozen=True)
class SpecTable:
    """Columns and, per offer, the cells in the same order (for templates, which cannot call readers)."""

    columns: list[Column]
    rows: list[tuple[Offer, list[str]]]


def spec_table(offers: Iterable[Offer], *, detail: bool = False) -> SpecTable:
    rows = list(offers)
    cols = columns_for(rows, detail=detail)
    return SpecTable(columns=cols, rows=[(o, [c.read(o) for c in cols]) for o in rows])
