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
Rates come from the staff-edited ``VatRate`` table and are copied onto each
invoice when it is issued.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.billing.choices import EU_COUNTRIES, SELLER_COUNTRY, VatTreatment
from apps.billing.models import BillingAccount, VatRate
from apps.billing.rating import ZERO, to_cents
from apps.billing.services import billing_account_for
from apps.core.errors import Unavailable, ValidationFailed
from apps.core.services import audit_record
from apps.teams.access import Actor
from apps.teams.models import Organisation

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


def vat_id_is_validated(*, organisation: Organisation, account: BillingAccount | None = None) -> bool:
    """True when the organisation's current VAT id is the one that was validated."""
    account = account or billing_account_for(organisation=organisation)
    current = vat_id_normalise(organisation.vat_id)
    return bool(current) and account.vat_id_validated == current and account.vat_id_validated_at is not None


def vat_rate_for(country: str) -> Decimal:
    rate = VatRate.objects.filter(country=country).values_list("rate", flat=True).first()
    if rate is None:
        raise Unavailable(
            _("No VAT rate is configured for %(country)s; staff must add it.") % {"country": country},
            code="vat_rate_missing",
        )
    return rate


def vat_decision_for(*, organisation: Organisation, account: BillingAccount | None = None) -> VatDecision:
    """The VAT treatment and rate that apply to ``organisation`` today."""
    country = (organisation.country or SELLER_COUNTRY).upper()
    if country == SELLER_COUNTRY:
        return VatDecision(VatTreatment.DOMESTIC, vat_rate_for(SELLER_COUNTRY), country, "")
    if country in EU_COUNTRIES:
        if vat_id_is_validated(organisation=organisation, account=account):
            return VatDecision(VatTreatment.REVERSE_CHARGE, ZERO, country, REVERSE_CHARGE_NOTE)
        return VatDecision(VatTreatment.EU_CONSUMER, vat_rate_for(country), country, "")
    return VatDecision(VatTreatment.OUT_OF_SCOPE, ZERO, country, OUT_OF_SCOPE_NOTE)


def vat_amount(net: Decimal, rate: Decimal) -> Decimal:
    """VAT on a net amount, computed once on the invoice total and rounded to the cent (half up)."""
    return to_cents(net * rate / Decimal(100))


def vat_id_mark_validated(*, organisation: Organisation, actor: Actor, source: str = "staff") -> BillingAccount:
    """Record that the organisation's current VAT id was checked (by staff in VIES, or by an automated check).

    VIES (https://ec.europa.eu/taxation_customs/vies/) cannot be reached from
    here, so staff check it and press the admin action; the shape is checked here.
    """
    error = vat_id_format_error(vat_id=organisation.vat_id, country=organisation.country)
    if error:
        raise ValidationFailed(error, code="invalid_vat_id", fields={"vat_id": [error]})
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(pk=billing_account_for(organisation=organisation).pk)
        account.vat_id_validated = vat_id_normalise(organisation.vat_id)
        account.vat_id_validated_at = timezone.now()
        account.vat_id_validated_by = (getattr(actor, "email", "") or source)[:100]
        account.save(update_fields=["vat_id_validated", "vat_id_validated_at", "vat_id_validated_by", "updated_at"])
        audit_record(
            actor=actor,
            action="billing.vat_id.validate",
            target=account,
            organisation_id=organisation.pk,
            changes={"vat_id": account.vat_id_validated, "source": source},
        )
    return account


def vat_id_clear_validation(*, organisation: Organisation, actor: Actor) -> BillingAccount:
    """Withdraw a VAT id validation (the id turned out invalid): the buyer is taxed as a consumer again."""
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(pk=billing_account_for(organisation=organisation).pk)
        account.vat_id_validated = ""
        account.vat_id_validated_at = None
        account.vat_id_validated_by = ""
        account.save(update_fields=["vat_id_validated", "vat_id_validated_at", "vat_id_validated_by", "updated_at"])
        audit_record(actor=actor, action="billing.vat_id.unvalidate", target=account, organisation_id=organisation.pk)
    return account


def vat_rates_seed() -> int:
    """Add the 2026 EU standard rates for countries that have none (never overwrites staff edits)."""
    from apps.billing.vat_rates import EU_STANDARD_RATES_2026

    existing = set(VatRate.objects.values_list("country", flat=True))
    missing = [VatRate(country=c, rate=Decimal(r)) for c, r in EU_STANDARD_RATES_2026.items() if c not in existing]
    VatRate.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)
