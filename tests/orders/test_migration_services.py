"""The data step of orders 0006: managed orders placed before services existed point at their service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from importlib import import_module

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from apps.managed.models import ManagedService
from apps.orders import services as order_services
from apps.orders.models import Order

pytestmark = pytest.mark.django_db

MANAGED_STEP = "apps.managed.migrations.0003_services_from_fulfilled_orders"
ORDERS_STEP = "apps.orders.migrations.0006_orders_of_migrated_services"


def test_old_service_orders_get_their_service(personas, shop, staff_user):
    state = MigrationExecutor(connection).loader.project_state(
        [("orders", "0006_orders_of_migrated_services"), ("managed", "0003_services_from_fulfilled_orders")]
    )
    old_apps = state.apps
    delivered = timezone.now().replace(microsecond=0) - dt.timedelta(hours=5)
    common = {
        "organisation_id": personas.org.pk,
        "project_id": personas.project.pk,
        "offer_id": shop.service.pk,
        "datacentre_id": shop.dc.pk,
        "price_hourly": Decimal("0.0068"),
        "price_monthly": Decimal("4.99"),
        "state": "provisioning",
    }
    done = Order.objects.create(name="site-done", fulfilment_status="fulfilled", fulfilled_at=delivered, **common)
    queued = Order.objects.create(name="site-queued", fulfilment_status="queued", **common)
    started = Order.objects.create(name="site-done", fulfilment_status="in_progress", **common)  # a name taken
    server = Order.objects.create(name="web-1", **{**common, "offer_id": shop.vps.pk})

    import_module(MANAGED_STEP).forwards(old_apps, None)
    step = import_module(ORDERS_STEP)
    step.forwards(old_apps, None)
    step.forwards(old_apps, None)  # twice: nothing more

    for order in (done, queued, started, server):
        order.refresh_from_db()
    assert done.service.public_id == done.public_id and done.service.state == "active"
    assert queued.service.state == "provisioning" and queued.service.name == "site-queued"
    assert queued.service.price_hourly == Decimal("0.0068") and queued.service.config == {}
    assert started.service.name == f"site-done-{started.public_id.hex[:8]}"
    assert server.service is None
    assert ManagedService.objects.count() == 3

    # Staff deliver the migrated one like any other; its order follows.
    from apps.managed import services as managed_services

    managed_services.service_deliver(service=queued.service, actor=staff_user, endpoints={}, notes="Live.")
    order_services.orders_sync_provisioning()
    queued.refresh_from_db()
    assert queued.state == "completed"

    step.backwards(old_apps, None)
    done.refresh_from_db()
    assert done.service is None and ManagedService.objects.count() == 1  # managed 0003's own stays
