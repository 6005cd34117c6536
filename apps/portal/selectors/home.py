"""Reads for the public home page: every place, model and figure it claims, from the catalogue and fleet.

The catalogue itself warns that the website's figures were inflated (site ≠
réalité), so the home page states only what can be ordered now: a datacentre
"takes orders" when it is operational; a server offer is orderable there when
it is sold there and a template of the fleet builds it (the availability
selectors of apps.infrastructure, capacity aside: that changes by the minute
and the pricing page shows it); GPU models are those of GPU offers orderable
somewhere, never a model no offer sells. tests/portal/test_home_facts.py
compares the page with these facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from apps.catalogue import selectors as catalogue_selectors
from apps.catalogue.choices import FamilyKind
from apps.catalogue.models import Datacentre, Offer
from apps.infrastructure.selectors import availability_matrix

# Country names of the datacentres' ISO 3166-1 codes (translatable; an unknown code shows as is).
COUNTRY_NAMES: dict[str, StrOrPromise] = {
    "FR": _("France"),
    "NL": _("Netherlands"),
    "DE": _("Germany"),
    "BE": _("Belgium"),
    "LU": _("Luxembourg"),
    "ES": _("Spain"),
    "IT": _("Italy"),
}
# The console preview of the hero: plans shown if they are orderable, each in a datacentre that sells it.
HERO_ROWS = (
    ("web-01", "VPS-PERFORMANCE", "running"),
    ("train-02", "GPU-PRO", "running"),
    ("db-01", "VPS-BUSINESS", "provisioning"),
    ("cache-03", "VPS-STARTER", "stopped"),
)


@dataclass
class DatacentreFacts:
    datacentre: Datacentre
    country_name: StrOrPromise
    takes_orders: bool
    families: list[str] = field(default_factory=list)  # family names orderable there
    gpu_models: list[str] = field(default_factory=list)  # GPU models of GPU offers orderable there


@dataclass
class HomeFacts:
    datacentres: list[DatacentreFacts]
    family_count: int
    server_cities: list[str]  # where a server (VPS or GPU) can be ordered now
    gpu_cities: list[str]
    gpu_models: list[str]  # every GPU model an orderable offer sells, smallest first
    cuda_images: bool  # a GPU software stack can be built somewhere
    vps_vcpu: tuple[int, int] | None  # smallest and largest VPS vCPU count orderable
    smallest_vps_ram_gb: int | None
    biggest_gpu_offer: Offer | None
    hero_rows: list[tuple[str, str, str, str]]  # (server name, offer code, datacentre code, status)
    # Managed families' figures, each (highest value, "or more"), None when no offer states one.
    lb_requests_per_second: tuple[int, bool] | None = None
    storage_iops_per_tb: tuple[int, int, bool] | None = None  # (lowest, highest, highest is "or more")
    cdn_pops: tuple[int, int, bool] | None = None


def _span(offers: list[Offer], value: str, or_more: str) -> tuple[int, int, bool] | None:
    """Lowest and highest ``value`` over the offers that state it, and whether the highest is "or more"."""
    stated = sorted((getattr(o, value), getattr(o, or_more)) for o in offers if getattr(o, value))
    return (stated[0][0], stated[-1][0], stated[-1][1]) if stated else None


def home_facts() -> HomeFacts:
    """What the home page may claim, in a constant number of queries (catalogue lists + availability)."""
    offers = list(catalogue_selectors.offer_list_public())
    datacentres = list(catalogue_selectors.datacentre_list())
    vm_offers = [o for o in offers if o.family.kind == FamilyKind.VIRTUAL_MACHINE]
    matrix = availability_matrix(offers=vm_offers, datacentres=datacentres) if vm_offers else {}

    def orderable(offer: Offer, dc: Datacentre) -> bool:
        if not dc.is_operational or not any(d.pk == dc.pk for d in offer.datacentres.all()):
            return False
        if offer.family.kind != FamilyKind.VIRTUAL_MACHINE:
            return True
        return bool(matrix[(offer.pk, dc.pk)].images)

    facts: list[DatacentreFacts] = []
    where: dict[int, list[Datacentre]] = {o.pk: [dc for dc in datacentres if orderable(o, dc)] for o in offers}
    for dc in datacentres:
        here = [o for o in offers if dc in where[o.pk]]
        families: list[str] = []
        for offer in here:
            if offer.family.name not in families:
                families.append(offer.family.name)
        models = sorted({o.gpu_model for o in here if o.gpu_model is not None}, key=lambda m: (m.vram_gb, m.name))
        facts.append(
            DatacentreFacts(
                datacentre=dc,
                country_name=COUNTRY_NAMES.get(dc.country, dc.country),
                takes_orders=dc.is_operational,
                families=families,
                gpu_models=[m.name for m in models],
            )
        )
    sold_vm = [o for o in vm_offers if where[o.pk]]
    gpu_offers = [o for o in sold_vm if o.is_gpu]
    vps = [o for o in sold_vm if not o.is_gpu]
    all_models = sorted({o.gpu_model for o in gpu_offers if o.gpu_model}, key=lambda m: (m.vram_gb, m.name))
    by_code = {o.code: o for o in offers}
    hero: list[tuple[str, str, str, str]] = []
    for i, (name, code, status) in enumerate(HERO_ROWS):
        shown = by_code.get(code)
        if shown is not None and where[shown.pk]:
            places = where[shown.pk]
            hero.append((name, code, places[i % len(places)].code, status))
    return HomeFacts(
        datacentres=facts,
        family_count=len({o.family_id for o in offers}),
        server_cities=[dc.city for dc in datacentres if any(dc in where[o.pk] for o in sold_vm)],
        gpu_cities=[dc.city for dc in datacentres if any(dc in where[o.pk] for o in gpu_offers)],
        gpu_models=[m.name for m in all_models],
        cuda_images=any(
            choice.gpu_stack_id for o in gpu_offers for dc in where[o.pk] for choice in matrix[(o.pk, dc.pk)].images
        ),
        vps_vcpu=(min(o.vcpu or 0 for o in vps), max(o.vcpu or 0 for o in vps)) if vps else None,
        smallest_vps_ram_gb=min((o.ram_gb or 0 for o in vps), default=None),
        biggest_gpu_offer=max(gpu_offers, key=lambda o: (o.gpu_vram_gb or 0, o.price_monthly)) if gpu_offers else None,
        hero_rows=hero,
        lb_requests_per_second=(lb[1], lb[2])
        if (lb := _span(offers, "lb_requests_per_second", "lb_requests_per_second_or_more"))
        else None,
        storage_iops_per_tb=_span(offers, "storage_iops_per_tb", "storage_iops_per_tb_or_more"),
        cdn_pops=_span(offers, "cdn_pops", "cdn_pops_or_more"),
    )
