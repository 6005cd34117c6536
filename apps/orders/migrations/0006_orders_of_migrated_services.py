"""Managed-service orders placed before services existed (issue 14) point at their service.

* A fulfilled order: its service is the one ``managed.0003`` made of it (same
  public id); ``Order.service`` now says so.
* An order still in the staff fulfilment queue (provisioning, queued or in
  progress, no service): a service in ``provisioning`` is created for it, with
  the order's name, tier, place and frozen prices and an empty configuration
  (the order collected none then), so staff deliver it in the managed
  services' back office like any other and the order follows it. A name
  another live service of the project already holds gets the order's short id.

Reversing unlinks the orders and deletes the services created here.
"""

from __future__ import annotations

from django.db import migrations

FAMILY_BY_PRODUCT_SLUG = {
    "web-hosting": "web_hosting",
    "paas": "paas",
    "load-balancer": "load_balancer",
    "cdn": "cdn",
}
REASON = "Created for order %s (placed before services existed)."
ENDED = ("cancelled", "terminated")


def forwards(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    ManagedService = apps.get_model("managed", "ManagedService")
    ServiceTransition = apps.get_model("managed", "ServiceTransition")
    for order in Order.objects.filter(service__isnull=True, fulfilled_at__isnull=False).iterator():
        service = ManagedService.objects.filter(public_id=order.public_id).first()
        if service is not None:
            Order.objects.filter(pk=order.pk).update(service=service)
    queued = Order.objects.filter(
        service__isnull=True, state="provisioning", fulfilment_status__in=("queued", "in_progress")
    ).select_related("offer__family")
    for order in queued.order_by("id"):
        family = FAMILY_BY_PRODUCT_SLUG.get(order.offer.family.slug)
        if family is None:
            continue
        name = order.name[:63]
        live = ManagedService.objects.filter(project_id=order.project_id, name=name).exclude(state__in=ENDED)
        if live.exists():
            name = f"{order.name[:54]}-{order.public_id.hex[:8]}"
        service = ManagedService.objects.create(
            organisation_id=order.organisation_id,
            project_id=order.project_id,
            offer_id=order.offer_id,
            family=family,
            datacentre_id=order.datacentre_id,
            name=name,
            labels={},
            state="provisioning",
            config={},
            endpoints={},
            price_hourly=order.price_hourly,
            price_monthly=order.price_monthly,
            created_by_id=order.created_by_id,
            state_reason=REASON % order.public_id,
        )
        ServiceTransition.objects.create(
            service=service,
            from_state="",
            to_state="provisioning",
            actor_label="system",
            reason=REASON % order.public_id,
        )
        Order.objects.filter(pk=order.pk).update(service=service)


def backwards(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    ManagedService = apps.get_model("managed", "ManagedService")
    # Known by their first transition (the state reason changes as staff deliver them).
    created = ManagedService.objects.filter(
        transitions__from_state="", transitions__reason__startswith="Created for order "
    )
    Order.objects.filter(service__in=created).update(service=None)
    created.delete()
    Order.objects.filter(service__isnull=False, fulfilled_at__isnull=False).update(service=None)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_order_service"),
        ("managed", "0003_services_from_fulfilled_orders"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
