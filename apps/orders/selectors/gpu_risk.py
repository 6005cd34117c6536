"""The GPU risk policy: the signals about an organisation, and which rules hold a GPU order for approval.

Signals (shown to staff next to the order in the approval queue):

- the organisation's age in days (``Organisation.created_at``);
- whether it has a payment method: billing (a higher app) answers through
  ``payment_method_provider_register``, as placement answers availability for
  the catalogue; with no provider the answer is "unknown" and the rule holds
  the order, since nothing shows a way to pay;
- whether it has a billing identity: a country, and for a company (not a
  personal organisation) a legal name.

Rules (``models.GpuRiskPolicy``, tuned by staff in the back office) turn the
signals into the order's flags; the customer reads each flag's label on the
order page. Documented in apps/docs/content/ordering.md ("GPU orders and approval").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from apps.orders.choices import OrderFlag
from apps.orders.models import GpuRiskPolicy
from apps.teams.models import Organisation

PaymentMethodProvider = Callable[[Organisation], bool]
_payment_method_provider: PaymentMethodProvider | None = None


def payment_method_provider_register(provider: PaymentMethodProvider | None) -> None:
    """Let billing answer "does this organisation have a payment method?" (None unregisters)."""
    global _payment_method_provider
    _payment_method_provider = provider


@dataclass(frozen=True)
class RiskSignals:
    age_days: int
    has_payment_method: bool | None  # None: no billing app answered
    has_billing_identity: bool


def gpu_risk_policy_get() -> GpuRiskPolicy:
    """The policy row, created on first use (``ORDERS_GPU_RISK_POLICY`` switches it on, ``ORDERS_APPROVAL_GPU``
    sets "review every GPU order")."""
    policy, _created = GpuRiskPolicy.objects.get_or_create(
        pk=1,
        defaults={
            "enabled": bool(settings.ORDERS_GPU_RISK_POLICY),
            "review_all": bool(settings.ORDERS_APPROVAL_GPU),
        },
    )
    return policy


def risk_signals(*, organisation: Organisation) -> RiskSignals:
    age = (timezone.now() - organisation.created_at).days if organisation.created_at else 0
    has_payment = _payment_method_provider(organisation) if _payment_method_provider is not None else None
    identity = bool(organisation.country) and (organisation.is_personal or bool(organisation.legal_name.strip()))
    return RiskSignals(age_days=age, has_payment_method=has_payment, has_billing_identity=identity)


def gpu_risk_flags(*, organisation: Organisation, policy: GpuRiskPolicy | None = None) -> list[str]:
    """Flags of a GPU order of ``organisation`` under the policy (empty: it starts at once)."""
    policy = policy or gpu_risk_policy_get()
    flags: list[str] = []
    if policy.review_all or settings.ORDERS_APPROVAL_GPU:
        flags.append(OrderFlag.GPU_REVIEW.value)
    if not policy.enabled:
        return flags
    signals = risk_signals(organisation=organisation)
    if policy.min_organisation_age_days and signals.age_days < policy.min_organisation_age_days:
        flags.append(OrderFlag.GPU_NEW_ORGANISATION.value)
    if policy.require_payment_method and not signals.has_payment_method:
        flags.append(OrderFlag.GPU_NO_PAYMENT_METHOD.value)
    if policy.require_billing_identity and not signals.has_billing_identity:
        flags.append(OrderFlag.GPU_NO_BILLING_IDENTITY.value)
    return flags
