"""Catalogue writes: loading the seed, and changing offer status (``docs/dev/style.md#app-shape``).

One module per topic, every public service re-exported here, so callers write
``from apps.catalogue import services`` then ``services.catalogue_load_seed(...)``:

* ``seed``: loading the seed catalogue idempotently (``manage.py load_catalogue``), keeping staff edits;
* ``seed_data``: the seed catalogue itself, typed once in plain Python data (what ``seed`` loads);
* ``offers``: an offer's hourly price under its family's rule; activating, hiding or retiring offers.
"""

from apps.catalogue.services.offers import offer_hourly_price, offer_set_status, offers_set_status
from apps.catalogue.services.seed import SeedLoadReport, catalogue_load_seed

__all__ = [
    "SeedLoadReport",
    "catalogue_load_seed",
    "offer_hourly_price",
    "offer_set_status",
    "offers_set_status",
]
