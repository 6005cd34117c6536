"""Pure rules of billing: no database, no model imported (``docs/dev/style.md#app-shape``).

* ``rating``: a month's usage groups into charged lines, the monthly cap applied;
* ``vat``: which VAT treatment applies to a buyer, the legal wording, VAT ids, rounding;
* ``vat_rates``: the EU standard rates of 2026 (data that seeds the staff-edited table);
* ``documents``: the invoice and credit note PDF and the CSV export, rendered from rows already read.
"""
