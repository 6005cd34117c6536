"""Reads of the payments area: payment methods, dunning state, overdue invoices, prepaid balance.

Callers check permissions. Nothing here writes or calls Stripe: payment methods are read from
dj-stripe's local copy (``services.payments.payment_methods_refresh`` fetches them from Stripe).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from apps.billing.choices import IN_DUNNING, CreditKind, DunningState, InvoiceStatus
from apps.billing.models import BillingAccount, CreditGrant, DunningPolicy, Invoice
from apps.billing.selectors.account import billing_account_get
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


def payments_enabled() -> bool:
    """True when Stripe keys are configured (``settings.BILLING_PAYMENTS_ENABLED``)."""
    return bool(settings.BILLING_PAYMENTS_ENABLED)


def overdue_invoices(*, organisation: Organisation, now: datetime | None = None) -> QuerySet[Invoice]:
    """Open invoices past their due date, or whose automatic payment failed."""
    now = now or timezone.now()
    return Invoice.objects.filter(organisation=organisation, status=InvoiceStatus.OPEN).filter(
        Q(due_at__lt=now) | Q(payment_failed_at__isnull=False)
    )


def _customer_id(organisation: Organisation) -> str:
    from apps.billing.stripe import gateway as stripe_gateway

    account = billing_account_get(organisation=organisation)
    return stripe_gateway.customer_id_of(account) if account.pk is not None else ""


def payment_method_list(*, organisation: Organisation) -> list[PaymentMethodView]:
    """The organisation's saved cards and SEPA mandates (dj-stripe's copy), default first."""
    from apps.billing.stripe import gateway as stripe_gateway

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
    account = billing_account_get(organisation=organisation)
    policy = DunningPolicy.current()
    overdue = overdue_invoices(organisation=organisation, now=now)
    total = overdue.aggregate(total=Sum("amount_due"))["total"] or Decimal("0.00")
    since = account.past_due_since
    suspend_on = terminate_on = None
    if since is not None and account.dunning_state in IN_DUNNING:
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
        payments_enabled=payments_enabled(),
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
