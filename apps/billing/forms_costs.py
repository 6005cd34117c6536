"""Portal forms of costs and budgets: shapes only; the rules are checked by ``apps.billing.services.budgets``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.billing.choices import BudgetAction, BudgetBasis
from apps.billing.models import Budget
from apps.teams.models import Organisation, Project


class BudgetForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    project = forms.ModelChoiceField(
        label=_("Scope"),
        queryset=Project.objects.none(),
        required=False,
        empty_label=_("The whole organisation"),
    )
    amount = forms.DecimalField(
        label=_("Monthly amount (EUR, excl. VAT)"), max_digits=12, decimal_places=2, min_value=Decimal("0.01")
    )
    thresholds = forms.CharField(
        label=_("Alert thresholds (%)"),
        initial="50, 80, 100",
        help_text=_("Percentages of the amount, ascending, between 1 and 1000."),
    )
    basis = forms.ChoiceField(label=_("Compare with"), choices=BudgetBasis.choices, initial=BudgetBasis.ACTUAL)
    action = forms.ChoiceField(
        label=_("At 100 %"),
        choices=BudgetAction.choices,
        initial=BudgetAction.NONE,
        help_text=_("Stopped GPU servers keep their disks, which keep billing storage."),
    )
    notify_emails = forms.CharField(
        label=_("E-mail alerts to"),
        required=False,
        help_text=_("Comma-separated. Empty: the organisation's billing address and billing members."),
    )
    webhook_url = forms.CharField(
        label=_("Webhook URL"), required=False, max_length=200, help_text=_("An https:// address; optional.")
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, organisation: Organisation, budget: Budget | None = None, **kwargs: Any) -> None:
        if budget is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": budget.name,
                "project": budget.project_id,
                "amount": budget.amount,
                "thresholds": ", ".join(str(t) for t in budget.thresholds),
                "basis": budget.basis,
                "action": budget.action,
                "notify_emails": ", ".join(budget.notify_emails),
                "webhook_url": budget.webhook_url,
                "is_active": budget.is_active,
            }
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.filter(organisation=organisation).order_by("name")  # type: ignore[attr-defined]
