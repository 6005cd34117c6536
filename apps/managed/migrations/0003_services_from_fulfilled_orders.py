"""Managed services for the orders staff fulfilled before services existed (issue 14).

Each fulfilled order of a managed family (web hosting, PaaS, load balancer, CDN)
becomes a ``ManagedService`` with **the order's public id**, so the usage
ledger, keyed by resource id, carries on without billing an hour twice: active
(or terminated at ``service_ended_at``), its price period from ``fulfilled_at``
at the order's frozen prices, and its history (one transition, "migrated").
Orders of other families (block storage, sold as volumes since issue 13) are
left alone and reported on the console. Reversing deletes the migrated rows.
"""

from __future__ import annotations

import logging

from django.db import migrations

logger = logging.getLogger(__name__)

FAMILY_BY_PRODUCT_SLUG = {
    "web-hosting": "web_hosting",
    "paas": "paas",
    "load-balancer": "load_balancer",
    "cdn": "cdn",
}
REASON = "Migrated from order %s (delivered before services existed)."


def forwards(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    ManagedService = apps.get_model("managed", "ManagedService")
    ServicePricePeriod = apps.get_model("managed", "ServicePricePeriod")
    ServiceTransition = apps.get_model("managed", "ServiceTransition")
    skipped = []
    orders = Order.objects.filter(fulfilled_at__isnull=False).select_related("offer__family").order_by("id")
    for order in orders:
        family = FAMILY_BY_PRODUCT_SLUG.get(order.offer.family.slug)
        if family is None:
            skipped.append(str(order.public_id))
            continue
        if ManagedService.objects.filter(public_id=order.public_id).exists():
            continue
        ended = order.service_ended_at
        service = ManagedService.objects.create(
            public_id=order.public_id,
            organisation_id=order.organisation_id,
            project_id=order.project_id,
            offer_id=order.offer_id,
            family=family,
            datacentre_id=order.datacentre_id,
            name=order.name[:63],
            labels={},
            state="terminated" if ended else "active",
            config={},
            endpoints={},
            delivery_notes=order.fulfilment_notes or "",
            price_hourly=order.price_hourly,
            price_monthly=order.price_monthly,
            created_by_id=order.created_by_id,
            activated_at=order.fulfilled_at,
            ended_at=ended,
            state_reason=REASON % order.public_id,
        )
        ServicePricePeriod.objects.create(
            service=service,
            offer_id=order.offer_id,
            price_hourly=order.price_hourly,
            price_monthly=order.price_monthly,
            started_at=order.fulfilled_at,
            ended_at=ended,
        )
        ServiceTransition.objects.create(
            service=service,
            from_state="",
            to_state=service.state,
            actor_label="system",
            reason=REASON % order.public_id,
        )
    if skipped:
        logger.warning(
            "managed: %d fulfilled order(s) of no managed family left as they are: %s", len(skipped), skipped
        )


def backwards(apps, schema_editor):
    ManagedService = apps.get_model("managed", "ManagedService")
    ManagedService.objects.filter(state_reason__startswith="Migrated from order ").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("managed", "0002_service_frozen_price"),
        ("orders", "0004_price_rate_field"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
