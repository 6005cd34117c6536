"""Billing data: the usage ledger, invoices and credit notes, credits, VAT rates, budgets, Stripe events, dunning.

Money is ``Decimal`` EUR, excluding VAT unless a field says otherwise.
Invariants live in constraints (one usage row per resource and hour, gapless
numbers from ``NumberSequence`` under a row lock, credit never below zero);
workflows live in ``services`` and the modules it names.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from apps.billing import choices
from apps.core.models import TimeStampedModel
from apps.core.money import ZERO, MoneyField, RateField
from apps.teams.models import Organisation, Project


class BillingAccount(TimeStampedModel):
    """Billing state of one organisation: VAT id validation, Stripe customer, dunning.

    The buyer's identity (legal name, country, VAT id, billing e-mail) lives on
    ``teams.Organisation``; this row holds what billing alone decides.
    ``vat_id_validated`` is the VAT id that was checked (by staff or VIES): if
    the organisation changes its VAT id, the check no longer applies.
    """

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="billing_account", verbose_name=_("organisation")
    )
    address = models.TextField(_("billing address"), blank=True, help_text=_("Printed on invoices."))
    vat_id_validated = models.CharField(_("validated VAT id"), max_length=32, blank=True)
    vat_id_validated_at = models.DateTimeField(_("VAT id validated at"), null=True, blank=True)
    vat_id_validated_by = models.CharField(
        _("validated by"), max_length=100, blank=True, help_text=_("Staff member, or VIES.")
    )
    stripe_customer = models.ForeignKey(
        "djstripe.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Stripe customer"),
    )
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=14)

    dunning_state = models.CharField(
        _("dunning state"), max_length=16, choices=choices.DunningState.choices, default=choices.DunningState.GOOD
    )
    past_due_since = models.DateTimeField(_("overdue since"), null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    last_reminder_at = models.DateTimeField(_("last reminder at"), null=True, blank=True)
    suspended_at = models.DateTimeField(_("suspended for non-payment at"), null=True, blank=True)
    terminated_at = models.DateTimeField(_("terminated at"), null=True, blank=True)
    dunning_paused_until = models.DateTimeField(
        _("dunning paused until"), null=True, blank=True, help_text=_("Staff override: no step runs before then.")
    )
    stopped_instance_ids = models.JSONField(
        _("servers stopped by suspension"), default=list, blank=True, help_text=_("Started again when it is lifted.")
    )

    class Meta:
        verbose_name = _("billing account")
        verbose_name_plural = _("billing accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(dunning_state__in=choices.DunningState.values), name="billing_dunning_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return str(self.organisation)


class VatRate(TimeStampedModel):
    """The standard VAT rate of one country, edited by staff; invoices copy the rate they used."""

    country = models.CharField(_("country"), max_length=2, unique=True, help_text=_("ISO 3166 alpha-2 code."))
    rate = models.DecimalField(_("rate (%)"), max_digits=5, decimal_places=2)
    notes = models.CharField(_("notes"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("VAT rate")
        verbose_name_plural = _("VAT rates")
        ordering = ["country"]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lt=100), name="billing_vat_rate_range"),
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.rate} %"


class UsageRecord(models.Model):
    """The ledger: one row per billable resource per started hour (UTC), at the price frozen for it.

    Written only by the hourly metering run (one set-based INSERT … SELECT …
    ON CONFLICT DO NOTHING, ``apps.billing.services.metering``), so running an hour
    twice changes nothing. ``monthly_cap`` is the price period's monthly price:
    a resource never costs more in a calendar month than the highest cap it
    had that month. ``invoice`` is set when the hour is invoiced.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    resource_type = models.CharField(_("resource type"), max_length=16, choices=choices.ResourceType.choices)
    resource_id = models.UUIDField(_("resource id"))
    resource_name = models.CharField(_("resource name"), max_length=253)
    description = models.CharField(_("description"), max_length=200, help_text=_("Offer code, or what is billed."))
    hour = models.DateTimeField(_("hour (UTC)"))
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, default=Decimal("1"))
    unit_price = RateField(_("unit price per hour"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=6)
    monthly_cap = MoneyField(_("monthly cap"), null=True, blank=True)
    invoice = models.ForeignKey(
        "Invoice", on_delete=models.SET_NULL, null=True, blank=True, related_name="usage_records"
    )
    created_at = models.DateTimeField(_("metered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")
        ordering = ["hour", "id"]
        constraints = [
            models.UniqueConstraint(fields=["resource_type", "resource_id", "hour"], name="uniq_usage_resource_hour"),
        ]
        indexes = [
            models.Index(fields=["organisation", "hour"], name="usage_org_hour_idx"),
            models.Index(fields=["hour"], name="usage_hour_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_type} {self.resource_name} {self.hour:%Y-%m-%d %H}h"

    @property
    def holds_project(self) -> bool:
        """Invoiced and metered hours are history: they name their project but do not keep it (teams.project_delete)."""
        return False


class MeteringRun(models.Model):
    """One metered hour: proof it ran, what it wrote and how long it took (catch-up starts after the last)."""

    hour = models.DateTimeField(_("hour (UTC)"), unique=True)
    records_created = models.PositiveIntegerField(_("records created"), default=0)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    created_at = models.DateTimeField(_("run at"), auto_now_add=True)

    class Meta:
        verbose_name = _("metering run")
        verbose_name_plural = _("metering runs")
        ordering = ["-hour"]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h"


class NumberSequence(models.Model):
    """Gapless counters (``invoice-2026``, ``credit_note-2026``): a number is taken under a row lock
    in the same transaction that issues the document, so a rollback gives it back."""

    name = models.CharField(_("name"), max_length=40, primary_key=True)
    last_value = models.PositiveIntegerField(_("last value"), default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self) -> str:
        return f"{self.name}: {self.last_value}"


class Invoice(TimeStampedModel):
    """One organisation's invoice for one calendar month (UTC).

    A draft can be recomputed; ``services.invoice_issue`` numbers it, freezes the
    buyer's details, the VAT treatment and rate, renders the PDF and e-mails it.
    Issued invoices never change: corrections are credit notes.
    """

    public_id = models.UUIDField(_("invoice id"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("organisation")
    )
    number = models.CharField(_("number"), max_length=32, unique=True, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=choices.InvoiceStatus.choices, default=choices.InvoiceStatus.DRAFT
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"), help_text=_("Last day included."))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    # The buyer as they were when the invoice was issued.
    buyer_name = models.CharField(_("buyer"), max_length=200, blank=True)
    buyer_address = models.TextField(_("buyer address"), blank=True)
    buyer_country = models.CharField(_("buyer country"), max_length=2, blank=True)
    buyer_vat_id = models.CharField(_("buyer VAT id"), max_length=32, blank=True)
    buyer_email = models.EmailField(_("buyer e-mail"), blank=True)

    vat_treatment = models.CharField(
        _("VAT treatment"), max_length=16, choices=choices.VatTreatment.choices, blank=True
    )
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2, default=ZERO)
    vat_note = models.TextField(_("VAT wording"), blank=True, help_text=_("The legal mention printed on the invoice."))

    subtotal = MoneyField(_("subtotal"), default=ZERO)
    promotional_credit = MoneyField(_("promotional credit"), default=ZERO, help_text=_("A discount, before VAT."))
    net_total = MoneyField(_("taxable amount"), default=ZERO)
    vat_amount = MoneyField(_("VAT"), default=ZERO)
    total = MoneyField(_("total incl. VAT"), default=ZERO)
    prepaid_applied = MoneyField(_("prepaid balance applied"), default=ZERO, help_text=_("A payment."))
    amount_due = MoneyField(_("amount due"), default=ZERO)
    amount_credited = MoneyField(_("credited by credit notes"), default=ZERO)

    pdf = models.BinaryField(_("PDF"), null=True, blank=True, editable=False)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    stripe_invoice_id = models.CharField(_("Stripe invoice"), max_length=255, blank=True, db_index=True)
    stripe_status = models.CharField(_("Stripe status"), max_length=32, blank=True)
    stripe_status_at = models.DateTimeField(
        _("Stripe status time"), null=True, blank=True, help_text=_("Time of the newest Stripe event applied.")
    )
    payment_failed_at = models.DateTimeField(_("last payment failure"), null=True, blank=True)
    notes = models.TextField(_("staff notes"), blank=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "period_start"], name="uniq_invoice_org_month"),
            models.CheckConstraint(
                condition=Q(status=choices.InvoiceStatus.DRAFT) | Q(number__isnull=False),
                name="invoice_issued_has_number",
            ),
            models.CheckConstraint(condition=Q(status__in=choices.InvoiceStatus.values), name="invoice_status_valid"),
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="invoice_status_due_idx")]

    def __str__(self) -> str:
        return self.number or f"draft {self.period_start:%Y-%m} {self.organisation_id}"


class InvoiceLine(models.Model):
    """One resource over one price period of the month (hours × hourly price), or a cap adjustment."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"))
    resource_type = models.CharField(_("resource type"), max_length=16, choices=choices.ResourceType.choices)
    resource_id = models.UUIDField(_("resource id"), null=True, blank=True)
    project_name = models.CharField(_("project"), max_length=100, blank=True)
    description = models.CharField(_("description"), max_length=300)
    period_start = models.DateTimeField(_("from"))
    period_end = models.DateTimeField(_("until"))
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=16, default="h")
    # A cap adjustment line has a negative unit price (apps.billing.rules.rating): no minimum.
    unit_price = RateField(_("unit price"), validators=[])
    amount = MoneyField(_("amount"))

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="uniq_invoice_line_position"),
        ]

    def __str__(self) -> str:
        return self.description


class CreditNote(TimeStampedModel):
    """A correction of an issued invoice, issued by staff: its own gapless number, PDF and VAT at the invoice's rate."""

    public_id = models.UUIDField(_("credit note id"), default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("number"), max_length=32, unique=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="credit_notes")
    kind = models.CharField(_("settlement"), max_length=16, choices=choices.CreditNoteKind.choices)
    reason = models.CharField(_("reason"), max_length=300, help_text=_("Printed on the credit note."))
    net_amount = MoneyField(_("amount excl. VAT"))
    vat_amount = MoneyField(_("VAT"))
    total = MoneyField(_("total incl. VAT"))
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pdf = models.BinaryField(_("PDF"), null=True, blank=True, editable=False)
    stripe_refund_id = models.CharField(_("Stripe refund"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(net_amount__gt=0), name="credit_note_positive"),
        ]

    def __str__(self) -> str:
        return self.number


class CreditGrant(TimeStampedModel):
    """Money an organisation can spend: prepaid balance (top-ups, credit notes) or promotional credit.

    ``remaining`` goes down as invoices use it (``CreditApplication``) and is
    never negative; credit past ``expires_at`` is no longer applied.
    """

    public_id = models.UUIDField(_("credit id"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="credit_grants")
    kind = models.CharField(_("kind"), max_length=16, choices=choices.CreditKind.choices)
    description = models.CharField(_("description"), max_length=200)
    amount = MoneyField(_("amount"))
    remaining = MoneyField(_("remaining"))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    credit_note = models.ForeignKey(
        CreditNote, on_delete=models.PROTECT, null=True, blank=True, related_name="credit_grants"
    )
    stripe_payment_id = models.CharField(_("Stripe payment"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("credit")
        verbose_name_plural = _("credits")
        ordering = ["expires_at", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_amount_positive"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=F("amount")), name="credit_remaining_in_range"
            ),
            models.UniqueConstraint(
                fields=["stripe_payment_id"], condition=~Q(stripe_payment_id=""), name="uniq_credit_stripe_payment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ({self.remaining} left)"


class CreditApplication(models.Model):
    """How much of one credit one invoice used."""

    grant = models.ForeignKey(CreditGrant, on_delete=models.PROTECT, related_name="applications")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="credit_applications")
    amount = MoneyField(_("amount"))
    created_at = models.DateTimeField(_("applied at"), auto_now_add=True)

    class Meta:
        verbose_name = _("credit application")
        verbose_name_plural = _("credit applications")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="credit_application_positive")]

    def __str__(self) -> str:
        return f"{self.amount} of {self.grant_id} on {self.invoice_id}"


class Budget(TimeStampedModel):
    """A monthly spending limit (excl. VAT) for an organisation or one project, with alert thresholds."""

    public_id = models.UUIDField(_("budget id"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="budgets")
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="budgets",
        help_text=_("Empty: the whole organisation."),
    )
    name = models.CharField(_("name"), max_length=100)
    amount = MoneyField(_("monthly amount (EUR, excl. VAT)"))
    thresholds = models.JSONField(_("thresholds (%)"), default=list, help_text=_("For example [50, 80, 100]."))
    basis = models.CharField(
        _("compare"), max_length=8, choices=choices.BudgetBasis.choices, default=choices.BudgetBasis.ACTUAL
    )
    action = models.CharField(
        _("at 100 %"), max_length=16, choices=choices.BudgetAction.choices, default=choices.BudgetAction.NONE
    )
    notify_emails = models.JSONField(_("e-mail alerts to"), default=list, blank=True)
    webhook_url = models.URLField(_("webhook URL"), blank=True)
    webhook_secret = models.CharField(_("webhook signing secret"), max_length=64, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        ordering = ["organisation_id", "name", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="budget_amount_positive")]

    def __str__(self) -> str:
        return self.name


class BudgetAlert(models.Model):
    """A threshold a budget crossed in one month: sent once, whatever how often it is evaluated."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="alerts")
    month = models.DateField(_("month"))
    threshold = models.PositiveSmallIntegerField(_("threshold (%)"))
    spend = MoneyField(_("spend when crossed"))
    created_at = models.DateTimeField(_("crossed at"), auto_now_add=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    webhook_status = models.CharField(_("webhook result"), max_length=100, blank=True)
    webhook_sent_at = models.DateTimeField(_("webhook sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("budget alert")
        verbose_name_plural = _("budget alerts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "month", "threshold"], name="uniq_budget_alert_per_month"),
        ]

    def __str__(self) -> str:
        return f"{self.budget} {self.threshold} % {self.month:%Y-%m}"


class BillingNotice(models.Model):
    """A message for the organisation's billing members in the portal (budget alerts, payment problems)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="billing_notices")
    kind = models.CharField(_("kind"), max_length=16, choices=choices.NoticeKind.choices)
    message = models.CharField(_("message"), max_length=500)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("billing notice")
        verbose_name_plural = _("billing notices")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.message[:60]


class StripeWebhookEvent(models.Model):
    """A Stripe event received by our endpoint: stored once per event id, then processed by a Celery task.

    The unique ``event_id`` is the deduplication (Stripe delivers at least once
    and retries; https://docs.stripe.com/webhooks#handle-duplicate-events).
    """

    event_id = models.CharField(_("event id"), max_length=255, unique=True)
    type = models.CharField(_("type"), max_length=100)
    created = models.DateTimeField(_("created at Stripe"))
    livemode = models.BooleanField(_("live mode"), default=False)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=choices.WebhookEventStatus.choices,
        default=choices.WebhookEventStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("last attempt started"), null=True, blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("Stripe webhook event")
        verbose_name_plural = _("Stripe webhook events")
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "received_at"], name="stripe_event_status_idx")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class DunningPolicy(TimeStampedModel):
    """The dunning schedule, one row edited by staff (``DunningPolicy.current()``)."""

    reminder_days = models.JSONField(
        _("reminders after (days)"), default=list, help_text=_("Days after the first failure, e.g. [1, 3, 7].")
    )
    suspend_after_days = models.PositiveSmallIntegerField(_("suspend after (days)"), default=14)
    terminate_after_days = models.PositiveSmallIntegerField(_("terminate after (days)"), default=30)

    class Meta:
        verbose_name = _("dunning policy")
        verbose_name_plural = _("dunning policy")
        constraints = [
            models.CheckConstraint(
                condition=Q(terminate_after_days__gt=F("suspend_after_days")), name="dunning_terminate_after_suspend"
            ),
        ]

    def __str__(self) -> str:
        return str(_("Dunning policy"))

    @classmethod
    def current(cls) -> DunningPolicy:
        stored = DunningPolicy.objects.order_by("pk").first()
        if stored is not None:
            return stored
        return DunningPolicy(
            reminder_days=list(settings.BILLING_DUNNING_REMINDER_DAYS),
            suspend_after_days=settings.BILLING_DUNNING_SUSPEND_AFTER_DAYS,
            terminate_after_days=settings.BILLING_DUNNING_TERMINATE_AFTER_DAYS,
        )
