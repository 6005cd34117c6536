"""Block storage tiers are sold as volumes (apps.volumes), never through an order (issue 13)."""

from __future__ import annotations

import pytest

from apps.orders.forms import OrderForm
from apps.orders.models import Order
from tests.orders.test_api import ORDERS, body, client_for
from tests.volumes.conftest import storage_tier

pytestmark = pytest.mark.django_db


def test_ordering_a_storage_tier_is_a_400_that_points_to_volumes(personas, shop):
    tier = storage_tier(shop.dc)
    response = client_for(personas.member).post(
        ORDERS, body(personas, shop, offer=tier.code, image=None), format="json"
    )
    assert response.status_code == 400, response.content
    assert "create a volume instead" in response.json()["error"]["fields"]["offer"][0]
    assert Order.objects.count() == 0


def test_the_order_wizard_does_not_list_storage_tiers(personas, shop):
    tier = storage_tier(shop.dc)
    form = OrderForm(organisation=personas.org, actor=personas.member)
    codes = set(form.fields["offer"].queryset.values_list("code", flat=True))
    assert shop.vps.code in codes and tier.code not in codes
