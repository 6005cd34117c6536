"""The form of an order's cancellation: an optional reason."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class OrderCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=500)
