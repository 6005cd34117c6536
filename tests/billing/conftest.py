"""Billing tests; area fixtures live in fixtures_<area>.py and are imported by the test modules."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _vat_rates(request):
    """The VAT rates table as migration 0002 leaves it.

    Transactional tests (live_server, transaction=True) flush every table when
    they end, data migrations included, so later tests on the same worker would
    find no rates: seed them again for every database test.
    """
    if request.node.get_closest_marker("django_db") is None and not {"db", "transactional_db"} & set(
        request.fixturenames
    ):
        return
    from apps.billing.services.vat import vat_rates_seed

    vat_rates_seed()
