"""The add-on offer that prices floating IPs (issue 13: "Priced by an add-on offer staff manage in the catalogue").

The catalogue gives no figure for floating IPs, so the price here is a
placeholder, said so in the offer's description (shown in the back office's
offer page and on the "Floating IP price" page of this app). The offer is
retired so the order wizard never sells it as a product of its own: floating
IPs are created through their own API and pages, which read its price.
"""

from decimal import Decimal

from django.db import migrations

CODE = "FLOATING-IPV4"
FAMILY = "add-ons"
PLACEHOLDER_MONTHLY = Decimal("3.00")
DESCRIPTION = (
    "PLACEHOLDER PRICE: the catalogue gives no figure for floating IPs; 3.00 EUR a month is a demo value set by "
    "the floating IPs app's data migration. Set the real monthly price here (hourly = monthly / 730); a floating "
    "IP keeps the price in force when it was created. Retired on purpose: floating IPs are created from their own "
    "page and API (/api/v1/floating_ips/), never through an order."
)


def create_offer(apps, schema_editor):
    ProductFamily = apps.get_model("catalogue", "ProductFamily")
    Offer = apps.get_model("catalogue", "Offer")
    if Offer.objects.filter(code=CODE).exists():
        return
    family, _created = ProductFamily.objects.get_or_create(
        slug=FAMILY,
        defaults={
            "name": "Add-ons",
            "tagline": "Options billed next to a server (floating IPs).",
            "kind": "service",
            "position": 90,
        },
    )
    Offer.objects.create(
        family=family,
        code=CODE,
        name="Floating IPv4",
        tier="starter",
        status="retired",
        description=DESCRIPTION,
        billing_unit="month",
        price_monthly=PLACEHOLDER_MONTHLY,
        price_hourly=(PLACEHOLDER_MONTHLY / 730).quantize(Decimal("0.000001")),
    )


class Migration(migrations.Migration):
    dependencies = [("floating_ips", "0001_initial"), ("catalogue", "0003_image_slugs_allow_dots")]

    operations = [migrations.RunPython(create_offer, migrations.RunPython.noop)]
