"""The forms of the back office's staff actions (organisation page, node page)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.billing.choices import CreditKind


class SuspendForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason shown to the organisation's members"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CreditForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CreditKind.choices, initial=CreditKind.PROMOTIONAL)
    amount = forms.DecimalField(label=_("Amount (EUR)"), min_value=Decimal("0.01"), max_digits=10, decimal_places=2)
    description = forms.CharField(label=_("What it is for"), max_length=200)
    expires_at = forms.DateTimeField(
        label=_("Expires at"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class DrainForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
