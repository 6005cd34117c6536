"""Reads of credits: what an organisation can still spend, in the order it is spent (callers check permissions)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from apps.billing.choices import CreditKind
from apps.billing.models import CreditGrant
from apps.core.money import ZERO
from apps.teams.models import Organisation


def usable_credit(*, organisation: Organisation, kind: CreditKind | str, at: datetime) -> QuerySet[CreditGrant]:
    """Grants of ``kind`` with something left that have not expired at ``at``, in the order they are used."""
    return (
        CreditGrant.objects.filter(organisation=organisation, kind=kind, remaining__gt=0)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))
        .order_by(F("expires_at").asc(nulls_last=True), "created_at", "id")
    )


def credit_available(*, organisation: Organisation, kind: CreditKind | str, at: datetime | None = None) -> Decimal:
    """How much of ``kind`` the organisation can still use at ``at`` (now by default)."""
    total = usable_credit(organisation=organisation, kind=kind, at=at or timezone.now()).aggregate(s=Sum("remaining"))
    return total["s"] or ZERO
