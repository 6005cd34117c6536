"""Billing writes shared by every area: the billing account and portal notices."""

from __future__ import annotations

from django.db import transaction

from apps.billing.choices import NoticeKind
from apps.billing.models import BillingAccount, BillingNotice
from apps.teams.models import Organisation


def billing_account_for(*, organisation: Organisation) -> BillingAccount:
    """The organisation's billing account, created on first use (idempotent under concurrency)."""
    account = BillingAccount.objects.filter(organisation=organisation).first()
    if account is not None:
        return account
    with transaction.atomic():
        account, _created = BillingAccount.objects.get_or_create(organisation=organisation)
    return account


def notice_post(*, organisation: Organisation, kind: NoticeKind | str, message: str) -> BillingNotice:
    """Show ``message`` to the organisation's billing members in the portal (budget alerts, payment problems)."""
    return BillingNotice.objects.create(organisation=organisation, kind=kind, message=message[:500])
