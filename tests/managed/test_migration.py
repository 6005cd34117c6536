"""The data step of managed 0003: orders fulfilled before services existed become services (same public id)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from importlib import import_module

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from apps.billing.models import UsageRecord
from apps.billing.services.metering import hour_floor, meter_hour
from apps.managed.models import ManagedService

pytestmark = pytest.mark.django_db

MIGRATION = "apps.managed.migrations.0003_services_from_fulfilled_orders"


def test_fulfilled_orders_become_services_that_keep_their_ledger_id(personas, shop):
    migration = import_module(MIGRATION)
    state = MigrationExecutor(connection).loader.project_state(
        [("managed", "0003_services_from_fulfilled_orders"), ("orders", "0004_price_rate_field")]
    )
    old_apps = state.apps
    # Rows written with today's model (the database has the later columns); the step reads them as of 0004.
    from apps.orders.models import Order

    delivered = timezone.now().replace(microsecond=0) - dt.timedelta(hours=5)
    common = {
        "organisation_id": personas.org.pk,
        "project_id": personas.project.pk,
        "offer_id": shop.service.pk,
        "datacentre_id": shop.dc.pk,
        "price_hourly": Decimal("0.0068"),
        "price_monthly": Decimal("4.99"),
        "state": "provisioning",
        "fulfilment_status": "fulfilled",
        "fulfilled_at": delivered,
        "fulfilment_notes": "FTP: ftp.example.com",
    }
    live = Order.objects.create(name="site-live", **common)
    ended = Order.objects.create(name="site-ended", service_ended_at=delivered + dt.timedelta(hours=2), **common)
    Order.objects.create(name="server", **{**common, "offer_id": shop.vps.pk})  # not a managed family
    Order.objects.create(name="waiting", **{**common, "fulfilled_at": None})

    migration.forwards(old_apps, None)
    migration.forwards(old_apps, None)  # twice: nothing more

    services = {s.name: s for s in ManagedService.objects.all()}
    assert set(services) == {"site-live", "site-ended"}
    a, b = services["site-live"], services["site-ended"]
    assert a.public_id == live.public_id and a.state == "active" and a.family == "web_hosting"
    assert a.delivery_notes == "FTP: ftp.example.com" and a.activated_at == delivered
    assert b.public_id == ended.public_id and b.state == "terminated" and b.ended_at == ended.service_ended_at
    assert a.price_periods.get().ended_at is None
    assert b.price_periods.get().ended_at == ended.service_ended_at
    # Billing carries on under the order's id.
    meter_hour(hour=hour_floor(delivered) + dt.timedelta(hours=1))
    assert set(UsageRecord.objects.values_list("resource_id", flat=True)) == {live.public_id, ended.public_id}

    migration.backwards(old_apps, None)
    assert not ManagedService.objects.exists()
