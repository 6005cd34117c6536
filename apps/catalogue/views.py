"""Public pricing pages: every active offer by family, and a side-by-side comparison.

No login needed. Reads go through ``selectors``; the spec cells come from
``specs`` so the page, the comparison and the docs agree on wording
("Unlimited", "1M+", "1.28 TB").
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.catalogue import choices, selectors
from apps.catalogue.forms import COMPARE_MAX, CompareForm, PricingFilterForm
from apps.catalogue.models import ProductFamily
from apps.catalogue.rules import specs


@dataclass(frozen=True)
class PricingSection:
    family: ProductFamily
    table: specs.SpecTable
    per_gb: bool  # storage: prices are per GB


def pricing(request: HttpRequest) -> HttpResponse:
    """All active offers grouped by family, filterable by datacentre and GPU model."""
    form = PricingFilterForm(request.GET or None)
    sections = [
        PricingSection(
            family=family,
            table=specs.spec_table(offers),
            per_gb=any(o.billing_unit == choices.BillingUnit.GB_MONTH for o in offers),
        )
        for family, offers in selectors.families_with_offers(filters=form.filters())
    ]
    context = {
        "form": form,
        "sections": sections,
        "offer_count": sum(len(s.table.rows) for s in sections),
        "compare_max": COMPARE_MAX,
        "filtered": form.is_bound and form.is_valid() and any(form.cleaned_data.values()),
    }
    return render(request, "catalogue/pricing.html", context)


def pricing_compare(request: HttpRequest) -> HttpResponse:
    """2 to 4 offers side by side, any families: one row per spec that applies to at least one of them."""
    form = CompareForm(request.GET if "offers" in request.GET else None)
    context: dict[str, object] = {"form": form, "compare_max": COMPARE_MAX}
    if form.is_valid():
        offers = form.cleaned_data["offers"]
        table = specs.spec_table(offers, detail=True)
        # Transpose: templates render one row per spec, one column per offer.
        context["offers"] = offers
        context["spec_rows"] = [
            (column.label, [cells[i] for _offer, cells in table.rows]) for i, column in enumerate(table.columns)
        ]
        context["hourly"] = [specs.price_hourly_display(o) for o in offers]
        context["monthly"] = [specs.price_monthly_display(o) for o in offers]
    return render(request, "catalogue/pricing_compare.html", context)
