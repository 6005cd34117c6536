"""Portal forms of managed services: cancel with the typed name, change tier within the family."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.catalogue.models import Offer
from apps.core.formats import money_per
from apps.managed.choices import ServiceFamily, ServiceState


class ServiceFilterForm(forms.Form):
    family = forms.ChoiceField(label=_("Family"), required=False, choices=[("", _("All")), *ServiceFamily.choices])
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("All")), *ServiceState.choices])


class ServiceCancelForm(forms.Form):
    """The typed confirmation: the service's name (apps.managed.services.service_cancel checks it)."""

    confirm = forms.CharField(
        label=_("Type the service's name to confirm"),
        max_length=63,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=1000)


class TierChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        offer: Offer = obj
        return f"{offer.code} — {money_per(offer.price_monthly, str(_('month')))}"


class ServiceTierForm(forms.Form):
    offer = TierChoiceField(label=_("New tier"), queryset=Offer.objects.none(), to_field_name="code")

    def __init__(self, *args: Any, tiers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["offer"].queryset = tiers  # type: ignore[attr-defined]
