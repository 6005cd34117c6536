"""Standard VAT rates of the EU member states in force on 2026-01-01 (data only; staff edit the live table).

Source: European Commission, "VAT rates applied in the Member States of the
European Union", situation at 1 January 2026. Used by migration 0002 and by
``vat_rates_seed`` (test fixtures, demo data); never read when pricing: the
``VatRate`` table is the truth.
"""

EU_STANDARD_RATES_2026 = {
    "AT": "20", "BE": "21", "BG": "20", "HR": "25", "CY": "19", "CZ": "21", "DK": "25",
    "EE": "24", "FI": "25.5", "FR": "20", "DE": "19", "GR": "24", "HU": "27", "IE": "23",
    "IT": "22", "LV": "21", "LT": "21", "LU": "17", "MT": "18", "NL": "21", "PL": "23",
    "PT": "23", "RO": "21", "SK": "23", "SI": "22", "ES": "21", "SE": "25",
}  # fmt: skip
