"""Serializers of the payments API: payment methods, Checkout sessions, the billing account's standing."""

from __future__ import annotations

from rest_framework import serializers

from apps.billing.choices import DunningState
from apps.billing.services.payments import TOPUP_MAX, TOPUP_MIN

ORGANISATION_HELP = (
    "Organisation id or slug. Optional with a token (its organisation) or when you belong to one organisation only."
)


class PaymentMethodOutputSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Stripe payment method id (pm_…).")
    type = serializers.ChoiceField(choices=["card", "sepa_debit"])
    brand = serializers.CharField(help_text="Card brand, or SEPA Direct Debit.")
    last4 = serializers.CharField()
    expires = serializers.CharField(help_text="MM/YYYY for cards, empty for SEPA.")
    is_default = serializers.BooleanField(help_text="Charged automatically when an invoice is issued.")


class OrganisationBodySerializer(serializers.Serializer):
    organisation = serializers.CharField(required=False, max_length=100, help_text=ORGANISATION_HELP)


class CheckoutSessionInputSerializer(serializers.Serializer):
    organisation = serializers.CharField(required=False, max_length=100, help_text=ORGANISATION_HELP)
    mode = serializers.ChoiceField(
        choices=[("setup", "Add a card or SEPA Direct Debit"), ("topup", "Top up the prepaid balance")],
        help_text="`setup` saves a payment method; `topup` pays `amount` EUR into the prepaid balance.",
    )
    amount = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        required=False,
        min_value=TOPUP_MIN,
        max_value=TOPUP_MAX,
        help_text="EUR, for `topup` only.",
    )

    def validate(self, attrs: dict) -> dict:
        if attrs["mode"] == "topup" and attrs.get("amount") is None:
            raise serializers.ValidationError({"amount": ["Required for a top-up."]})
        return attrs


class CheckoutSessionOutputSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Send the customer's browser here (Stripe Checkout).")


class BillingAccountOutputSerializer(serializers.Serializer):
    organisation_id = serializers.IntegerField(source="account.organisation_id")
    payments_enabled = serializers.BooleanField(
        help_text="False: online payments are off, invoices are paid by bank transfer."
    )
    dunning_state = serializers.ChoiceField(choices=DunningState.choices, source="state")
    past_due_since = serializers.DateTimeField(allow_null=True)
    suspend_on = serializers.DateTimeField(allow_null=True, help_text="When the account will be suspended if unpaid.")
    suspended_at = serializers.DateTimeField(allow_null=True)
    terminate_on = serializers.DateTimeField(allow_null=True, help_text="When servers will be deleted if unpaid.")
    terminated_at = serializers.DateTimeField(allow_null=True)
    overdue_invoices = serializers.IntegerField(source="overdue_count")
    overdue_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    prepaid_balance = serializers.DecimalField(max_digits=12, decimal_places=2)
    has_stripe_customer = serializers.BooleanField()
