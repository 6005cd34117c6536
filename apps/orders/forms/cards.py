"""The create flow's cards: the choice fields, one card per choice with its live state, and why a card
cannot be chosen (``apps.infrastructure.choices.UnavailableCode`` → what the customer reads).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.catalogue.models import Datacentre, GpuSoftwareStack, Offer
from apps.infrastructure.choices import UnavailableCode


class OfferChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        offer: Offer = obj
        # The code once: seeded offers are named by their code ("VPS-NANO — VPS-NANO" repeated it).
        return plan_label(offer)


class ImageChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class StackChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        stack: GpuSoftwareStack = obj
        return f"{stack.name} (cuDNN {stack.cudnn_version}, TensorRT {stack.tensorrt_version})"


def plan_label(offer: Offer) -> str:
    """ "VPS-NANO", or "GPU-PRO · Pro GPU" when the offer has a name of its own."""
    return offer.code if not offer.name or offer.name == offer.code else f"{offer.code} · {offer.name}"


# Why a card cannot be chosen (``apps.infrastructure.choices.UnavailableCode`` → what the customer reads).
UNAVAILABLE_REASONS: dict[str, Any] = {
    UnavailableCode.NOT_ORDERABLE: _("No longer sold"),
    UnavailableCode.NOT_IN_DATACENTRE: _("Not sold in this datacentre"),
    UnavailableCode.DATACENTRE_MAINTENANCE: _("Maintenance"),
    UnavailableCode.NO_CAPACITY: _("No capacity for this plan right now"),
    UnavailableCode.GPU_ENVELOPE: _("No capacity for this plan right now"),
    UnavailableCode.NO_TEMPLATE: _("No image can build this plan here yet"),
}


@dataclass
class Card:
    """One radio card of the create flow: what it selects, whether it can be chosen, and why not."""

    value: str
    obj: Any
    checked: bool = False
    disabled: bool = False
    reason: str = ""
    level: str = "available"  # available, limited, on_request, unavailable
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass
class ImageGroup:
    """One distribution's tile: its versions as radio choices."""

    distribution: str
    slug: str
    versions: list[Card]

    @property
    def checked(self) -> bool:
        return any(v.checked for v in self.versions)

    @property
    def disabled(self) -> bool:
        return all(v.disabled for v in self.versions)


_CATALOGUE_CODES = (
    UnavailableCode.NOT_ORDERABLE,
    UnavailableCode.NOT_IN_DATACENTRE,
    UnavailableCode.DATACENTRE_MAINTENANCE,
)


def offer_sold_in(offer: Offer, datacentre: Datacentre) -> bool:
    """``offer.datacentres`` is prefetched by the catalogue selectors: no query."""
    return any(dc.pk == datacentre.pk for dc in offer.datacentres.all())
