"""Names of the billing app's Celery tasks: one constant each, for ``@shared_task(name=...)``, ``task_enqueue``
and the beat schedule (plain strings: settings import this module; docs/dev/style.md#celery-tasks)."""

# Beat, hourly: meter every closed hour not metered yet.
METER = "billing.meter"
# Beat, hourly after metering: evaluate every active budget.
BUDGETS_EVALUATE = "billing.budgets_evaluate"
# One budget alert POSTed to its webhook (retried on transient errors).
BUDGET_WEBHOOK_SEND = "billing.budget_webhook_send"
# Beat, daily: issue last month's invoices.
INVOICES_ISSUE = "billing.invoices_issue"
# One issued invoice e-mailed to the organisation (retried on transient SMTP errors).
INVOICE_EMAIL = "billing.invoice_email"
# One issued invoice pushed to Stripe for collection.
INVOICE_PUSH = "billing.invoice_push"
# One REFUND credit note refunded through Stripe.
CREDIT_NOTE_REFUND = "billing.credit_note_refund"
# One stored Stripe webhook event claimed and applied.
STRIPE_EVENT_PROCESS = "billing.stripe_event_process"
# Beat, every 5 minutes: re-enqueue Stripe events left pending or failed.
STRIPE_EVENTS_SWEEP = "billing.stripe_events_sweep"
# Beat, every 6 hours: reminders, suspensions and terminations for non-payment.
DUNNING = "billing.dunning"
