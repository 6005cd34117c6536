"""Standard VAT rates of the EU member states, as in force on 2026-01-01.

Source: European Commission, "VAT rates applied in the Member States of the
European Union" (taxation_customs, situation at 1 January 2026). Staff keep
the table current in the admin; each invoice copies the rate it applied.
"""

from decimal import Decimal

from django.db import migrations

RATES = {
    "AT": "20", "BE": "21", "BG": "20", "HR": "25", "CY": "19", "CZ": "21", "DK": "25",
    "EE": "24", "FI": "25.5", "FR": "20", "DE": "19", "GR": "24", "HU": "27", "IE": "23",
    "IT": "22", "LV": "21", "LT": "21", "LU": "17", "MT": "18", "NL": "21", "PL": "23",
    "PT": "23", "RO": "21", "SK": "23", "SI": "22", "ES": "21", "SE": "25",
}  # fmt: skip


def load(apps, schema_editor):
    VatRate = apps.get_model("billing", "VatRate")
    for country, rate in RATES.items():
        VatRate.objects.update_or_create(country=country, defaults={"rate": Decimal(rate)})


def unload(apps, schema_editor):
    apps.get_model("billing", "VatRate").objects.filter(country__in=RATES).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
