"""Portal forms of orders: the create flow (cards scoped to the organisation and catalogue, with live state).

One module per part of the flow, re-exported here (``from apps.orders import forms``):

* ``create``: ``OrderForm``, the create flow (family, datacentre, image, plan,
  name) and the summary beside it, the price of what is chosen;
* ``cards``: the radio cards and choice fields, with their live state and why
  a card cannot be chosen;
* ``options``: a server's options (networks, firewalls, labels, volumes);
* ``managed_service``: a managed service's fields, per family;
* ``cancel``: ``OrderCancelForm``.
"""

from __future__ import annotations

from apps.orders.forms.cancel import OrderCancelForm
from apps.orders.forms.cards import (
    UNAVAILABLE_REASONS,
    Card,
    ImageChoiceField,
    ImageGroup,
    OfferChoiceField,
    StackChoiceField,
    offer_sold_in,
    plan_label,
)
from apps.orders.forms.create import (
    QUANTITY_MAX,
    OrderForm,
)
from apps.orders.forms.managed_service import (
    ENVIRONMENT_CHOICES,
    LINES,
    ORIGIN_CHOICES,
    SERVICE_ERROR_FIELDS,
    SOURCE_CHOICES,
    service_data_from,
    service_field_for,
    service_fields_add,
)
from apps.orders.forms.options import ServerOptionsForm

__all__ = [
    "ENVIRONMENT_CHOICES",
    "LINES",
    "ORIGIN_CHOICES",
    "QUANTITY_MAX",
    "SERVICE_ERROR_FIELDS",
    "SOURCE_CHOICES",
    "UNAVAILABLE_REASONS",
    "Card",
    "ImageChoiceField",
    "ImageGroup",
    "OfferChoiceField",
    "OrderCancelForm",
    "OrderForm",
    "ServerOptionsForm",
    "StackChoiceField",
    "offer_sold_in",
    "plan_label",
    "service_data_from",
    "service_field_for",
    "service_fields_add",
]
