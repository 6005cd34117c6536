"""VAT for an Estonian seller of electronically supplied services (Council Directive 2006/112/EC).

Which treatment applies to a buyer (customer-facing text in
``apps/docs/content/billing.md``):

* buyer in Estonia (business or consumer): Estonian VAT (domestic supply);
* buyer in another member state with a validated VAT id: reverse charge
  (Articles 44 and 196), 0 % on our invoice with the legal wording;
* buyer in another member state without one: a consumer, taxed at the
  buyer's country's rate (Article 58; declared through the OSS);
* buyer outside the EU: outside the scope of EU VAT (Articles 44 and 59).

An organisation with no country yet is charged Estonian VAT: we cannot show
it is elsewhere, so it is taxed as a domestic supply until it says where it is.
Rates come from the staff-edited ``VatRate`` table (read by
``apps.billing.selectors.vat``) and are copied onto each invoice when it is
issued. This module holds the rules only: it touches no database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from apps.billing.choices import EU_COUNTRIES, SELLER_COUNTRY, VatTreatment
from apps.core.money import ZERO, to_cents

# Wordings required on the invoice (Article 226 points 11 and 11a of the Directive).
REVERSE_CHARGE_NOTE = (
    "Reverse charge: VAT to be accounted for by the recipient (Article 196 of Council Directive 2006/112/EC)."
)
OUT_OF_SCOPE_NOTE = (
    "VAT not applicable: services supplied to a customer established outside the European Union "
    "(Articles 44 and 59 of Council Directive 2006/112/EC)."
)
# A VAT id is the country prefix (EL for Greece) and 2 to 12 letters or digits (the VIES formats).
VAT_ID_PATTERN = re.compile(r"^[A-Z]{2}[0-9A-Z+*]{2,12}$")


@dataclass(frozen=True)
class VatDecision:
    """The VAT that applies to one buyer now."""

    treatment: VatTreatment
    rate: Decimal  # percent
    country: str
    note: str  # the legal wording printed on the invoice ("" when VAT is simply charged)


def vat_id_normalise(vat_id: str) -> str:
    """Upper case, without spaces, dots or dashes, as VIES compares them."""
    return re.sub(r"[\s.\-]", "", vat_id or "").upper()


def vat_id_prefix(country: str) -> str:
    return "EL" if country == "GR" else country


def vat_id_format_error(*, vat_id: str, country: str) -> str | None:
    """Why ``vat_id`` cannot be a VAT id of ``country``, or None when its shape is right."""
    normalised = vat_id_normalise(vat_id)
    if not VAT_ID_PATTERN.match(normalised):
        return _("A VAT id starts with the country code and has 4 to 14 letters or digits, such as FR12345678901.")
    if country and normalised[:2] != vat_id_prefix(country):
        return _("This VAT id does not belong to the organisation's country (%(country)s).") % {"country": country}
    return None


def vat_decision(
    *, country: str, vat_id_validated: Callable[[], bool], rate_for: Callable[[str], Decimal]
) -> VatDecision:
    """The VAT treatment and rate for a buyer in ``country`` (``""``: not said yet, taxed as domestic).

    ``rate_for(country)`` gives a country's rate (the ``VatRate`` table, ``selectors.vat.vat_rate_for``);
    ``vat_id_validated()`` says whether the buyer's VAT id was checked. Both are asked only when the
    answer matters, so a decision costs no query it does not need.
    """
    country = (country or SELLER_COUNTRY).upper()
    if country == SELLER_COUNTRY:
        return VatDecision(VatTreatment.DOMESTIC, rate_for(SELLER_COUNTRY), country, "")
    if country in EU_COUNTRIES:
        if vat_id_validated():
            return VatDecision(VatTreatment.REVERSE_CHARGE, ZERO, country, REVERSE_CHARGE_NOTE)
        return VatDecision(VatTreatment.EU_CONSUMER, rate_for(country), country, "")
    return VatDecision(VatTreatment.OUT_OF_SCOPE, ZERO, country, OUT_OF_SCOPE_NOTE)


def vat_amount(net: Decimal, rate: Decimal) -> Decimal:
    """VAT on a net amount, computed once on the invoice total and rounded to the cent (half up)."""
    return to_cents(net * rate / Decimal(100))
