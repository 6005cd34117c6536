"""Portal form of an alert policy (create and edit): plain fields, checked again by the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.alerts.choices import AlertComparison, AlertDuration, AlertMetric


class AlertPolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=63)
    project = forms.ChoiceField(label=_("Project"))
    metric = forms.ChoiceField(label=_("Metric"), choices=AlertMetric.choices)
    comparison = forms.ChoiceField(label=_("Comparison"), choices=AlertComparison.choices)
    threshold = forms.DecimalField(
        label=_("Threshold"),
        min_value=0,
        decimal_places=2,
        help_text=_("Percent for CPU, memory and disk; bytes per second for network traffic."),
    )
    duration_minutes = forms.TypedChoiceField(
        label=_("For at least"), choices=AlertDuration.choices, coerce=int, initial=AlertDuration.FIVE
    )
    server = forms.ChoiceField(label=_("Server"), required=False)
    label_selector = forms.CharField(
        label=_("Or servers by label"), max_length=500, required=False, help_text=_("e.g. env=prod,role in (web,api)")
    )
    email_members = forms.BooleanField(label=_("E-mail the organisation's members"), required=False, initial=True)
    emails = forms.CharField(
        label=_("Also e-mail"), required=False, max_length=1000, help_text=_("Addresses separated by commas.")
    )
    portal_notice = forms.BooleanField(label=_("Show a notice in the console"), required=False, initial=True)
    webhook_url = forms.CharField(label=_("Webhook URL"), required=False, max_length=500)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    def __init__(self, *args: Any, projects: list[Any], servers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = [(str(p.pk), p.name) for p in projects]  # type: ignore[attr-defined]
        self.fields["server"].choices = [("", _("— servers by label —"))] + [  # type: ignore[attr-defined]
            (str(s.public_id), s.name) for s in servers
        ]
