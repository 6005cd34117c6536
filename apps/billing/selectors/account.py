"""Reads of an organisation's billing account without creating it (selectors never write).

``services.account.billing_account_for`` creates the row on first use; a read
that finds none answers with the values a new account would have, which is
what the organisation's billing is until something writes it.
"""

from __future__ import annotations

from apps.billing.models import BillingAccount
from apps.teams.models import Organisation


def billing_account_get(*, organisation: Organisation) -> BillingAccount:
    """The organisation's billing account, or an unsaved one with the defaults when it has none yet."""
    account = BillingAccount.objects.filter(organisation=organisation).first()
    return account if account is not None else BillingAccount(organisation=organisation)
