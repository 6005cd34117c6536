"""Writes of VAT: staff validating or withdrawing a buyer's VAT id, seeding the EU rates.

The rules are in ``apps.billing.rules.vat``, the reads in ``apps.billing.selectors.vat``.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.billing.models import BillingAccount, VatRate
from apps.billing.rules.vat import vat_id_format_error, vat_id_normalise
from apps.billing.services.account import billing_account_for
from apps.core.actors import Actor
from apps.core.errors import ValidationFailed
from apps.core.services import audit_record
from apps.teams.models import Organisation


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
    from apps.billing.rules.vat_rates import EU_STANDARD_RATES_2026

    existing = set(VatRate.objects.values_list("country", flat=True))
    missing = [VatRate(country=c, rate=Decimal(r)) for c, r in EU_STANDARD_RATES_2026.items() if c not in existing]
    VatRate.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)
