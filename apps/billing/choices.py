"""Enumerations of billing: resource kinds, invoice states, VAT treatments, credits, budgets, dunning."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ResourceType(models.TextChoices):
    """What a usage record meters."""

    INSTANCE = "instance", _("Server")
    SNAPSHOT = "snapshot", _("Snapshot storage")
    SERVICE = "service", _("Managed service")
    VOLUME = "volume", _("Block storage volume")
    FLOATING_IP = "floating_ip", _("Floating IP")


class InvoiceStatus(models.TextChoices):
    """An invoice's life: a draft has no number; issuing numbers it and freezes it."""

    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")  # issued, awaiting payment
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")  # cancelled in full by a credit note


class VatTreatment(models.TextChoices):
    """How VAT applies to a buyer, for an Estonian seller (EU VAT Directive 2006/112/EC)."""

    DOMESTIC = "domestic", _("Estonian VAT")
    EU_CONSUMER = "eu_consumer", _("VAT of the customer's country (OSS)")
    REVERSE_CHARGE = "reverse_charge", _("Reverse charge")
    OUT_OF_SCOPE = "out_of_scope", _("Outside the scope of EU VAT")


class CreditKind(models.TextChoices):
    """Prepaid balance is a payment (applied after VAT); promotional credit is a discount (before VAT)."""

    PREPAID = "prepaid", _("Prepaid balance")
    PROMOTIONAL = "promotional", _("Promotional credit")


class CreditNoteKind(models.TextChoices):
    """Where a credit note's money goes."""

    BALANCE = "balance", _("Credited to the prepaid balance")
    REFUND = "refund", _("Refunded to the payment method")
    REDUCTION = "reduction", _("Reduces the amount due")


class BudgetBasis(models.TextChoices):
    ACTUAL = "actual", _("Month-to-date spend")
    FORECAST = "forecast", _("Forecast to month end")


class BudgetAction(models.TextChoices):
    """What happens when a budget reaches 100 %."""

    NONE = "none", _("Alert only")
    BLOCK_ORDERS = "block_orders", _("Block new orders")
    STOP_GPUS = "stop_gpus", _("Stop GPU servers (disks are kept)")


class DunningState(models.TextChoices):
    GOOD = "good", _("In good standing")
    PAST_DUE = "past_due", _("Payment overdue")
    SUSPENDED = "suspended", _("Suspended for non-payment")
    TERMINATED = "terminated", _("Terminated for non-payment")


# The states in which dunning is running (an account to step along the timeline).
IN_DUNNING = (DunningState.PAST_DUE, DunningState.SUSPENDED)


class WebhookEventStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PROCESSING = "processing", _("Processing")
    DONE = "done", _("Done")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


class NoticeKind(models.TextChoices):
    BUDGET = "budget", _("Budget")
    DUNNING = "dunning", _("Payment")
    INVOICE = "invoice", _("Invoice")
    CREDIT = "credit", _("Credit")


# EU member states (ISO 3166 alpha-2; Greece is "GR" in ISO, "EL" in VAT ids).
EU_COUNTRIES = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    }
)  # fmt: skip
SELLER_COUNTRY = "EE"
