"""Credits an organisation can spend: prepaid balance and promotional credit, each with an optional expiry.

* promotional credit is a discount: applied to an invoice's lines *before* VAT;
* prepaid balance is a payment: applied to the total *after* VAT;
* both are used oldest-expiring first (then oldest granted), and credit past its
  ``expires_at`` is never applied (it stays visible, with nothing usable).

``credit_grant`` is the only way credit is created (staff in the admin, Stripe
top-ups through ``services.payments.topup_credit``, credit notes credited to the balance);
``credits_apply`` is called by ``services.invoicing.invoice_issue`` in its transaction.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.billing.choices import CreditKind
from apps.billing.models import CreditApplication, CreditGrant, CreditNote, Invoice
from apps.billing.selectors.credits import usable_credit
from apps.core.actors import Actor, actor_user
from apps.core.errors import ValidationFailed
from apps.core.money import ZERO, to_cents
from apps.core.services import audit_record
from apps.teams.models import Organisation


def credit_grant(
    *,
    organisation: Organisation,
    kind: CreditKind | str,
    amount: Decimal,
    description: str,
    expires_at: datetime | None = None,
    actor: Actor,
    stripe_payment_id: str = "",
    credit_note: CreditNote | None = None,
) -> CreditGrant:
    """Give ``organisation`` ``amount`` EUR of prepaid or promotional credit, usable until ``expires_at``."""
    errors: dict[str, list[str]] = {}
    try:
        value = to_cents(Decimal(str(amount)))
    except (InvalidOperation, ValueError):
        value = ZERO
    if not value.is_finite() or value <= 0:
        errors["amount"] = [_("The amount must be more than 0.")]
    if kind not in CreditKind.values:
        errors["kind"] = [_("Choose prepaid balance or promotional credit.")]
    if not (description or "").strip():
        errors["description"] = [_("Say what the credit is for.")]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = [_("The expiry must be in the future.")]
    if errors:
        raise ValidationFailed(_("The credit is not valid."), fields=errors)
    with transaction.atomic():
        grant = CreditGrant.objects.create(
            organisation=organisation,
            kind=kind,
            description=description.strip()[:200],
            amount=value,
            remaining=value,
            expires_at=expires_at,
            created_by=actor_user(actor),  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
            credit_note=credit_note,
            stripe_payment_id=stripe_payment_id,
        )
        audit_record(
            actor=actor,
            action="billing.credit.grant",
            target=grant,
            organisation_id=organisation.pk,
            changes={
                "kind": str(kind),
                "amount": str(value),
                "expires_at": expires_at.isoformat() if expires_at else None,
                "credit_note": credit_note.number if credit_note else None,
            },
        )
    return grant


def credits_apply(*, invoice: Invoice, kind: CreditKind | str, up_to: Decimal, at: datetime) -> Decimal:
    """Use up to ``up_to`` of the organisation's usable credit of ``kind`` on ``invoice``; returns what was used.

    Call inside the issuing transaction: the grants are locked (oldest-expiring first) so two
    invoices never spend the same credit.
    """
    if up_to <= 0:
        return ZERO
    used = ZERO
    grants = usable_credit(organisation=invoice.organisation, kind=kind, at=at).select_for_update()
    for grant in grants:
        take = min(grant.remaining, up_to - used)
        if take <= 0:
            break
        CreditGrant.objects.filter(pk=grant.pk).update(remaining=F("remaining") - take, updated_at=timezone.now())
        CreditApplication.objects.create(grant=grant, invoice=invoice, amount=take)
        used += take
    return used
