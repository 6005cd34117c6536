"""axe-core on the portal's main pages, light and dark: no serious or critical violation (issue 16).

The check itself is ``tests/accessibility.py`` (axe-core from the npm registry, injected by Playwright).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.billing.models import VatRate
from apps.instances.models import Instance
from tests.accessibility import axe_report, axe_violations
from tests.orders.conftest import place

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/dashboard/",
    "/servers/",
    "/servers/{server}/",
    "/volumes/",
    "/networks/",
    "/firewalls/",
    "/floating-ips/",
    "/billing/",
    "/services/",
    "/alerts/",
    "/search/?q=web",
    "/ssh-keys/",
    "/accounts/email/",
    "/orders/",
    "/org/settings/",
    "/org/members/",
    "/tokens/",
    "/audit/",
    "/",
    "/docs/console/",
]


@pytest.fixture
def world(personas, shop):
    VatRate.objects.get_or_create(country="EE", defaults={"rate": Decimal("22.00")})
    server = Instance.objects.create(
        organisation=personas.org,
        project=personas.project,
        name="web-1",
        offer=shop.vps,
        datacentre=shop.dc,
        image=shop.image,
        status="running",
        ipv4="203.0.113.10",
        price_hourly=Decimal("0.0137"),
        price_monthly=Decimal("9.99"),
    )
    place(personas, shop, offer=shop.service, name="web-shop")
    return {"server": server.public_id}


def test_portal_pages_have_no_serious_violation_in_light_and_dark(login_page, personas, world):
    """One walk over PAGES (one login, one database): every failure is collected and reported together."""
    page = login_page(personas.owner)
    failures = []
    for path in PAGES:
        url = path.format(**world)
        page.goto(url)
        for theme in ("light", "dark"):
            # Stored before a reload, as the toggle stores it: theme-init.js applies it before the first paint,
            # so axe never measures colours halfway through the toggle's transition.
            page.evaluate(f"window.localStorage.setItem('vmcloud-theme', '{theme}')")
            page.reload()
            assert page.evaluate("document.documentElement.getAttribute('data-theme')") == theme, url
            violations = axe_violations(page)
            if violations:
                failures.append(axe_report(violations, label=f"{url} ({theme})"))
    assert not failures, "\n\n".join(failures)


def test_the_check_finds_what_it_should(page):
    """The check can fail: an unlabelled input and grey-on-white text are reported, with a readable message."""
    page.set_content(
        '<html lang="en"><body><main><input type="text">'
        '<p style="color:#bbb;background:#fff">faint text</p></main></body></html>'
    )
    violations = axe_violations(page)
    assert {v["id"] for v in violations} >= {"label", "color-contrast"}
    assert "color-contrast" in axe_report(violations)
