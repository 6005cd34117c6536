"""Reads of VAT: the staff-edited rates, whether a buyer's VAT id was checked, the decision for a buyer now.

The rules themselves (treatments, wording, rounding) are in ``apps.billing.rules.vat``.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from apps.billing.models import BillingAccount, VatRate
from apps.billing.rules.vat import VatDecision, vat_decision, vat_id_normalise
from apps.billing.selectors.account import billing_account_get
from apps.core.errors import Unavailable
from apps.teams.models import Organisation


def vat_id_is_validated(*, organisation: Organisation, account: BillingAccount | None = None) -> bool:
    """True when the organisation's current VAT id is the one that was validated."""
    account = account or billing_account_get(organisation=organisation)
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
    return vat_decision(
        country=organisation.country,
        vat_id_validated=lambda: vat_id_is_validated(organisation=organisation, account=account),
        rate_for=vat_rate_for,
    )
