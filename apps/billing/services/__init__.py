"""Writes of billing: the only code that saves, charges, calls Stripe or enqueues (``docs/dev/style.md#services``).

One module per area, every public service re-exported here, so callers write
``from apps.billing import services`` then ``services.invoice_issue(...)``:

* ``account``: the billing account (created on first use) and portal notices;
* ``metering``: the hourly ledger (``UsageRecord``), one set-based statement per resource kind;
* ``invoicing``: monthly drafts, issuing (numbers, VAT, credits, PDF, e-mail task), credit notes;
* ``credits``: granting prepaid and promotional credit, spending it on an invoice;
* ``vat``: staff validating a buyer's VAT id, seeding the EU rates;
* ``payments``: paid / failed, pushing invoices to Stripe, refunds, Checkout, payment methods;
* ``webhooks``: Stripe events received once, processed by a task, in any order;
* ``dunning``: reminders, suspension and termination for non-payment, and lifting them;
* ``budgets``: budgets, their hourly evaluation, alerts and actions at 100 %.
"""

from apps.billing.services.account import billing_account_for, notice_post
from apps.billing.services.budgets import (
    budget_alert_email,
    budget_create,
    budget_delete,
    budget_evaluate,
    budget_update,
    budget_webhook_deliver,
    budgets_evaluate_all,
    notices_mark_read,
)
from apps.billing.services.credits import credit_grant, credits_apply
from apps.billing.services.dunning import (
    dunning_lift_now,
    dunning_open,
    dunning_pause,
    dunning_restart,
    dunning_run,
    dunning_settle_if_clear,
    dunning_step,
)
from apps.billing.services.invoicing import (
    credit_note_issue,
    invoice_draft_build,
    invoice_email_send,
    invoice_issue,
    invoices_issue_for_month,
    number_take,
)
from apps.billing.services.metering import meter_catch_up, meter_hour
from apps.billing.services.payments import (
    checkout_setup_start,
    checkout_topup_start,
    credit_note_refund,
    customer_ensure,
    invoice_mark_paid,
    invoice_payment_failed,
    invoice_push,
    payment_method_remove,
    payment_method_set_default,
    payment_methods_refresh,
    require_payments_enabled,
    topup_credit,
    topup_validate,
)
from apps.billing.services.vat import vat_id_clear_validation, vat_id_mark_validated, vat_rates_seed
from apps.billing.services.webhooks import event_process, event_receive, event_reprocess, events_sweep

__all__ = [
    "billing_account_for",
    "budget_alert_email",
    "budget_create",
    "budget_delete",
    "budget_evaluate",
    "budget_update",
    "budget_webhook_deliver",
    "budgets_evaluate_all",
    "checkout_setup_start",
    "checkout_topup_start",
    "credit_grant",
    "credit_note_issue",
    "credit_note_refund",
    "credits_apply",
    "customer_ensure",
    "dunning_lift_now",
    "dunning_open",
    "dunning_pause",
    "dunning_restart",
    "dunning_run",
    "dunning_settle_if_clear",
    "dunning_step",
    "event_process",
    "event_receive",
    "event_reprocess",
    "events_sweep",
    "invoice_draft_build",
    "invoice_email_send",
    "invoice_issue",
    "invoice_mark_paid",
    "invoice_payment_failed",
    "invoice_push",
    "invoices_issue_for_month",
    "meter_catch_up",
    "meter_hour",
    "notice_post",
    "notices_mark_read",
    "number_take",
    "payment_method_remove",
    "payment_method_set_default",
    "payment_methods_refresh",
    "require_payments_enabled",
    "topup_credit",
    "topup_validate",
    "vat_id_clear_validation",
    "vat_id_mark_validated",
    "vat_rates_seed",
]
