"""Standard VAT rates of the EU member states, as in force on 2026-01-01.

Source: European Commission, "VAT rates applied in the Member States of the
European Union" (taxation_customs, situation at 1 January 2026). Staff keep
the table current in the admin; each invoice copies the rate it applied.
"""

from decimal import Decimal

from django.db import migrations

from apps.billing.rules.vat_rates import EU_STANDARD_RATES_2026 as RATES


def load(apps, schema_editor):
    VatRate = apps.get_model("billing", "VatRate")
    for country, rate in RATES.items():
        VatRate.objects.update_or_create(country=country, defaults={"rate": Decimal(rate)})


def unload(apps, schema_editor):
    apps.get_model("billing", "VatRate").objects.filter(country__in=RATES).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
