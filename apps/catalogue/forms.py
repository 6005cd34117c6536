"""Portal forms of the public pricing page: the datacentre/GPU filter and the comparison picker."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.catalogue import selectors
from apps.catalogue.models import Datacentre, GpuModel, Offer

COMPARE_MAX = 4


class DatacentreChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Datacentre) -> str:  # type: ignore[override]
        label = f"{obj.code} · {obj.city}"
        return label if obj.is_operational else f"{label} ({obj.get_status_display()})"


class PricingFilterForm(forms.Form):
    """Narrow the pricing page to one datacentre and/or one GPU model."""

    datacentre = DatacentreChoiceField(
        queryset=Datacentre.objects.order_by("position", "code"),
        to_field_name="code",
        required=False,
        empty_label=_("All datacentres"),
        label=_("Datacentre"),
    )
    gpu = forms.ModelChoiceField(
        queryset=GpuModel.objects.filter(offers__isnull=False).distinct().order_by("vram_gb", "name"),
        to_field_name="slug",
        required=False,
        empty_label=_("Any GPU"),
        label=_("GPU model"),
    )

    def filters(self) -> selectors.OfferFilters:
        """The selector filters; call after ``is_valid()``."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return selectors.OfferFilters(datacentre=data.get("datacentre"), gpu_model=data.get("gpu"))


class CompareForm(forms.Form):
    """Offers to compare side by side: ``?offers=A,B`` or ``?offers=A&offers=B``, 2 to 4 active offers."""

    offers = forms.CharField(label=_("Offers"), required=True)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        if data is not None:
            codes = [c.strip() for raw in data.getlist("offers") for c in raw.split(",") if c.strip()]
            data = {"offers": ",".join(dict.fromkeys(codes))}  # de-duplicated, order kept
        super().__init__(data, **kwargs)

    def clean_offers(self) -> list[Offer]:
        codes = [c for c in self.cleaned_data["offers"].split(",") if c]
        if len(codes) < 2:
            raise forms.ValidationError(_("Pick at least two offers to compare."))
        if len(codes) > COMPARE_MAX:
            raise forms.ValidationError(
                ngettext(
                    "You can compare up to %(max)d offer at a time.",
                    "You can compare up to %(max)d offers at a time.",
                    COMPARE_MAX,
                )
                % {"max": COMPARE_MAX}
            )
        offers = selectors.offers_by_codes_public(codes=codes)
        unknown = [c for c in codes if c not in {o.code for o in offers}]
        if unknown:
            raise forms.ValidationError(
                _("Unknown offer: %(codes)s.") % {"codes": ", ".join(unknown)}, code="unknown_offer"
            )
        return offers
