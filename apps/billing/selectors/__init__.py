"""Reads of billing: they never save, call Stripe or enqueue (``docs/dev/style.md#selectors``).

One module per area, every public read re-exported here, so callers write
``from apps.billing import selectors`` then ``selectors.invoice_list(...)``:

* ``invoices``: invoices, credit notes, credits and a month's usage, scoped to the actor (``billing.read``);
* ``usage``: the rated ledger (one grouped query, rated by ``rules.rating``);
* ``credits``: usable prepaid and promotional credit, in the order it is spent;
* ``payments``: payment methods (dj-stripe's copy), dunning standing, overdue invoices, prepaid balance;
* ``costs``: month-to-date, forecast and spend per day of an organisation or a project;
* ``estimates``: what an offer would cost before ordering, VAT included;
* ``budgets``: budgets, their alerts, notices, the GPU servers a budget's action stops;
* ``vat``: the staff-edited rates and the VAT decision for a buyer now;
* ``account``: the billing account, read without creating it.
"""

from apps.billing.selectors.account import billing_account_get
from apps.billing.selectors.budgets import (
    alert_recipients,
    budget_alert_list,
    budget_get_for_actor,
    budget_list,
    gpu_instances_in_scope,
    notice_list,
)
from apps.billing.selectors.costs import billable_now, cost_summary, parse_month, spend_for_budget
from apps.billing.selectors.credits import credit_available, usable_credit
from apps.billing.selectors.estimates import datacentre_for_estimate, estimate_build, offer_for_estimate
from apps.billing.selectors.invoices import (
    billing_organisations,
    credit_list,
    credit_note_get,
    credit_note_list,
    invoice_csv,
    invoice_get,
    invoice_list,
    usage_month,
)
from apps.billing.selectors.payments import (
    billing_state,
    overdue_invoices,
    payment_method_list,
    payments_enabled,
    prepaid_balance,
)
from apps.billing.selectors.usage import rate_month, rate_records, usage_groups
from apps.billing.selectors.vat import vat_decision_for, vat_id_is_validated, vat_rate_for

__all__ = [
    "alert_recipients",
    "billable_now",
    "billing_account_get",
    "billing_organisations",
    "billing_state",
    "budget_alert_list",
    "budget_get_for_actor",
    "budget_list",
    "cost_summary",
    "credit_available",
    "credit_list",
    "credit_note_get",
    "credit_note_list",
    "datacentre_for_estimate",
    "estimate_build",
    "gpu_instances_in_scope",
    "invoice_csv",
    "invoice_get",
    "invoice_list",
    "notice_list",
    "offer_for_estimate",
    "overdue_invoices",
    "parse_month",
    "payment_method_list",
    "payments_enabled",
    "prepaid_balance",
    "rate_month",
    "rate_records",
    "spend_for_budget",
    "usable_credit",
    "usage_groups",
    "usage_month",
    "vat_decision_for",
    "vat_id_is_validated",
    "vat_rate_for",
]
