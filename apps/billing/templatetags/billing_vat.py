"""Template tags for prices with the organisation's VAT, on pages of lower apps (the order create flow).

``{% organisation_vat organisation as vat %}`` gives the VAT decision that
applies to the organisation today (``apps.billing.selectors.vat_decision_for``,
as the cost estimate uses: apps/docs/content/costs-and-budgets.md), or None when
no rate is configured for its country; ``price|with_vat:vat`` adds it to a
monthly amount (rounded to the cent, as invoices do) and ``rate|with_vat_rate:vat``
to an hourly rate (to the stored rate precision).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from apps.billing.rules.vat import VatDecision, vat_amount
from apps.billing.selectors import vat_decision_for
from apps.core.errors import ApplicationError
from apps.core.money import to_rate
from apps.teams.models import Organisation

register = template.Library()


@register.simple_tag
def organisation_vat(organisation: Organisation | None) -> VatDecision | None:
    if organisation is None:
        return None
    try:
        return vat_decision_for(organisation=organisation)
    except ApplicationError:
        return None  # no rate configured for the country yet: prices are shown without VAT


@register.filter
def with_vat(amount: Any, vat: VatDecision | None) -> Decimal | None:
    if vat is None or amount in (None, ""):
        return None
    net = Decimal(amount)
    return net + vat_amount(net, vat.rate)


@register.filter
def with_vat_rate(rate: Any, vat: VatDecision | None) -> Decimal | None:
    if vat is None or rate in (None, ""):
        return None
    net = Decimal(rate)
    return net + to_rate(net * vat.rate / Decimal(100))
