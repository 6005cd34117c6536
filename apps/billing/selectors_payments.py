"""Reads of the payments area: payment methods, dunning state, prepaid balance (callers check permissions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum
from django.utils import timezone

from apps.billing import dunning, payments
from apps.billing.choices import CreditKind, DunningState
from apps.billing.models import BillingAccount, CreditGrant, DunningPolicy
from apps.billing.services import billing_account_for
from apps.teams.models import Organisation


@dataclass(frozen=True)
class PaymentMethodView:
    id: str
    type: str
    brand: str
    last4: str
    expires: str
    is_default: bool
    created: datetime | None


def _customer_id(organisation: Organisation) -> str:
    from apps.billing import stripe_gateway

    return stripe_gateway.customer_id_of(billing_account_for(organisation=organisation))


def payment_method_list(*, organisation: Organisation) -> list[PaymentMethodView]:
    """The organisation's saved cards and SEPA mandates (dj-stripe's copy), default first."""
    from apps.billing import stripe_gateway

    customer_id = _customer_id(organisation)
    if not customer_id:
        return []
    default = stripe_gateway.customer_default_payment_method(customer_id=customer_id)
    views: list[PaymentMethodView] = []
    for method in stripe_gateway.payment_methods_local(customer_id=customer_id):
        data: dict[str, Any] = method.stripe_data or {}
        kind = str(data.get("type") or "")
        details: dict[str, Any] = data.get(kind) or {}
        expires = ""
        if kind == "card" and details.get("exp_month"):
            expires = f"{int(details['exp_month']):02d}/{details.get('exp_year')}"
        views.append(
            PaymentMethodView(
                id=str(method.id),
                type=kind,
                brand=str(details.get("brand") or ("SEPA Direct Debit" if kind == "sepa_debit" else kind)).title()
                if kind == "card"
                else "SEPA Direct Debit",
                last4=str(details.get("last4") or ""),
                expires=expires,
                is_default=str(method.id) == default,
                created=getattr(method, "created", None),
            )
        )
    views.sort(key=lambda v: (not v.is_default, v.id))
    return views


def payment_methods_refresh(*, organisation: Organisation) -> list[PaymentMethodView]:
    """Fetch the payment methods from Stripe (after Checkout), then list them."""
    from apps.billing import stripe_gateway

    payments.require_payments_enabled()
    customer_id = stripe_gateway.customer_ensure(organisation=organisation)
    stripe_gateway.payment_methods_sync(customer_id=customer_id)
    return payment_method_list(organisation=organisation)


@dataclass(frozen=True)
class BillingState:
    account: BillingAccount
    state: str
    state_label: str
    past_due_since: datetime | None
    suspended_at: datetime | None
    terminated_at: datetime | None
    paused_until: datetime | None
    suspend_on: datetime | None
    terminate_on: datetime | None
    overdue_count: int
    overdue_amount: Decimal
    payments_enabled: bool

    @property
    def in_dunning(self) -> bool:
        return self.state != DunningState.GOOD


def billing_state(*, organisation: Organisation, now: datetime | None = None) -> BillingState:
    """The organisation's standing: dunning state, its next steps and what is overdue."""
    from datetime import timedelta

    now = now or timezone.now()
    account = billing_account_for(organisation=organisation)
    policy = DunningPolicy.current()
    overdue = dunning.overdue_invoices(organisation=organisation, now=now)
    total = overdue.aggregate(total=Sum("amount_due"))["total"] or Decimal("0.00")
    since = account.past_due_since
    suspend_on = terminate_on = None
    if since is not None and account.dunning_state in dunning.IN_DUNNING:
        suspend_on = since + timedelta(days=policy.suspend_after_days)
        terminate_on = since + timedelta(days=policy.terminate_after_days)
    return BillingState(
        account=account,
        state=account.dunning_state,
        state_label=str(DunningState(account.dunning_state).label),
        past_due_since=since,
        suspended_at=account.suspended_at,
        terminated_at=account.terminated_at,
        paused_until=account.dunning_paused_until,
        suspend_on=suspend_on if account.dunning_state == DunningState.PAST_DUE else None,
        terminate_on=terminate_on,
        overdue_count=overdue.count(),
        overdue_amount=total,
        payments_enabled=payments.payments_enabled(),
    )


def prepaid_balance(*, organisation: Organisation, now: datetime | None = None) -> Decimal:
    """Prepaid balance still usable (not expired)."""
    now = now or timezone.now()
    total = (
        CreditGrant.objects.filter(organisation=organisation, kind=CreditKind.PREPAID, remaining__gt=0)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .aggregate(total=Sum("remaining"))["total"]
    )
    return total or Decimal("0.00")
