"""One price, followed from the catalogue to the customer's invoice, keeps its six decimal places.

offer → order (frozen) → instance (frozen) → price period (opened when the
server first runs) → usage record (one metered hour) → invoice line → the
invoice PDF. The rule is ``apps.core.money``: a rate is stored with
``RATE_PLACES`` (6) places wherever it is copied and only an amount becomes
cents (apps/docs/content/pricing-rules.md).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from apps.billing.models import UsageRecord
from apps.billing.services import invoice_draft_build, invoice_issue, meter_hour
from apps.instances import services as instance_services
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance, InstancePricePeriod
from apps.orders import services as order_services
from apps.orders.choices import OrderState
from tests.billing.fixtures_invoices import at, pdf_text, utc

pytestmark = pytest.mark.django_db

RATE = Decimal("0.039726")  # six places: four would have made it 0.0397


def test_one_hourly_price_reaches_the_invoice_pdf_with_its_six_places(
    personas, shop, django_capture_on_commit_callbacks
):
    org = personas.org
    org.country = "FR"
    org.save(update_fields=["country"])
    offer = shop.vps
    offer.price_hourly = RATE
    offer.save(update_fields=["price_hourly"])

    with at(utc(2026, 1, 10, 9, 30)):
        order = order_services.order_place(
            actor=personas.member,
            organisation=org,
            project=personas.project,
            offer=offer,
            datacentre=shop.dc,
            image=shop.image,
            name="price-1",
        )
    order.refresh_from_db()
    assert order.price_hourly == RATE

    instance = Instance.objects.get(pk=order.instance_id)
    assert instance.price_hourly == RATE

    # The worker brings the server up: billing starts, and the order is told.
    with at(utc(2026, 1, 10, 9, 40)), django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        locked = Instance.objects.select_for_update().get(pk=instance.pk)
        instance_services.instance_transition(instance=locked, to=InstanceStatus.RUNNING)
    order.refresh_from_db()
    assert order.state == OrderState.COMPLETED
    period = InstancePricePeriod.objects.get(instance=instance)
    assert period.price_hourly == RATE

    with at(utc(2026, 1, 10, 11, 5)):
        meter_hour(hour=utc(2026, 1, 10, 10))
    record = UsageRecord.objects.get(resource_id=instance.public_id)
    assert record.unit_price == RATE

    with at(utc(2026, 2, 2, 3)):
        draft = invoice_draft_build(organisation=org, month=date(2026, 1, 1))
        assert draft is not None
        invoice = invoice_issue(invoice=draft, actor=None)
    line = invoice.lines.get(resource_id=instance.public_id)
    assert line.unit_price == RATE
    assert "0.039726" in pdf_text(bytes(invoice.pdf))
