"""Cost estimates before ordering: the hourly price, the monthly cap and the VAT the organisation would pay.

Prices come from the catalogue (what an order would freeze now); the VAT
treatment and rate from ``apps.billing.selectors.vat.vat_decision_for``. On the
invoice, VAT is computed once on the month's total and rounded to the cent, so
the hourly VAT here is shown to the micro-euro and the monthly one to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from apps.billing.rules.vat import VatDecision, vat_amount
from apps.billing.selectors.vat import vat_decision_for
from apps.catalogue.models import Datacentre, Offer
from apps.core.errors import ValidationFailed
from apps.core.money import to_cents, to_rate
from apps.teams.models import Organisation

# The longest calendar month has 744 hours: an estimate covers at most one month's cap.
MAX_HOURS = 744


@dataclass(frozen=True)
class Estimate:
    """What an offer costs the organisation, hourly and at most per month, without and with VAT."""

    offer: Offer
    datacentre: Datacentre | None
    vat: VatDecision
    price_hourly: Decimal
    price_monthly: Decimal
    vat_hourly: Decimal
    vat_monthly: Decimal
    hours: int | None
    hours_cost: Decimal | None  # hours × hourly price, capped at the monthly price
    hours_vat: Decimal | None
    currency: str = "EUR"

    @property
    def total_hourly(self) -> Decimal:
        return self.price_hourly + self.vat_hourly

    @property
    def total_monthly(self) -> Decimal:
        return self.price_monthly + self.vat_monthly

    @property
    def hours_total(self) -> Decimal | None:
        if self.hours_cost is None or self.hours_vat is None:
            return None
        return self.hours_cost + self.hours_vat


def offer_for_estimate(*, code: str) -> Offer:
    """The orderable offer with this code, or a 400 naming the field."""
    offer = Offer.objects.filter(code=(code or "").strip()).select_related("family").first()
    if offer is None or not offer.is_orderable:
        message = _("Unknown offer.")
        raise ValidationFailed(message, code="unknown_offer", fields={"offer": [message]})
    return offer


def datacentre_for_estimate(*, code: str, offer: Offer) -> Datacentre:
    """The datacentre with this code where ``offer`` is sold, or a 400 naming the field."""
    datacentre = Datacentre.objects.filter(code=(code or "").strip()).first()
    if datacentre is None:
        message = _("Unknown datacentre.")
        raise ValidationFailed(message, code="unknown_datacentre", fields={"datacentre": [message]})
    if not offer.datacentres.filter(pk=datacentre.pk).exists():
        message = _("This offer is not sold in %(dc)s.") % {"dc": datacentre.code}
        raise ValidationFailed(message, code="offer_not_sold_here", fields={"datacentre": [message]})
    return datacentre


def estimate_build(
    *, organisation: Organisation, offer: Offer, datacentre: Datacentre | None = None, hours: int | None = None
) -> Estimate:
    """The estimate of ``offer`` for ``organisation`` (and optionally a run of ``hours`` within one month)."""
    if hours is not None and not 1 <= hours <= MAX_HOURS:
        message = _("Give between 1 and %(max)s hours.") % {"max": MAX_HOURS}
        raise ValidationFailed(message, fields={"hours": [message]})
    decision = vat_decision_for(organisation=organisation)
    hourly, monthly = offer.price_hourly, offer.price_monthly
    vat_hourly = to_rate(hourly * decision.rate / Decimal(100))
    hours_cost = hours_vat = None
    if hours is not None:
        hours_cost = min(to_cents(hourly * hours), monthly)
        hours_vat = vat_amount(hours_cost, decision.rate)
    return Estimate(
        offer=offer,
        datacentre=datacentre,
        vat=decision,
        price_hourly=hourly,
        price_monthly=monthly,
        vat_hourly=vat_hourly,
        vat_monthly=vat_amount(monthly, decision.rate),
        hours=hours,
        hours_cost=hours_cost,
        hours_vat=hours_vat,
    )
