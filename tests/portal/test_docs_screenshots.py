"""The console docs page's screenshots (apps/docs/content/console.md): taken from the real pages, light and dark.

Each run takes them into a temporary directory (so the pages they show keep rendering); with
``VMCLOUD_DOCS_SCREENSHOTS=1`` it writes them over ``static/docs/console/`` for the docs::

    VMCLOUD_DOCS_SCREENSHOTS=1 .venv/bin/pytest -p no:xdist tests/portal/test_docs_screenshots.py
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

from apps.billing import services as billing_services
from apps.billing.models import VatRate
from apps.instances import services as instance_services
from apps.instances.models import Instance
from tests.orders.conftest import place

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "static" / "docs" / "console"
DOC = ROOT / "apps" / "docs" / "content" / "console.md"
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop"


def test_every_image_of_the_console_page_exists():
    images = re.findall(r"!\[[^\]]+\]\(/static/docs/console/([\w.-]+)\)", DOC.read_text())
    assert len(images) >= 4
    assert all((SHOTS / name).is_file() for name in images), images


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_screenshots_of_the_dashboard_and_the_search(login_page, personas, shop, tmp_path):
    VatRate.objects.get_or_create(country="EE", defaults={"rate": Decimal("22.00")})
    for n, (name, status) in enumerate(
        [("web-1", "running"), ("web-2", "running"), ("db-primary", "running"), ("build-runner", "stopped")]
    ):
        Instance.objects.create(
            organisation=personas.org,
            project=personas.project,
            name=name,
            offer=shop.vps,
            datacentre=shop.dc,
            image=shop.image,
            status=status,
            ipv4=f"203.0.113.{10 + n}",
            price_hourly=Decimal("0.0137"),
            price_monthly=Decimal("9.99"),
        )
    place(personas, shop, offer=shop.service, name="web-shop")
    instance_services.ssh_key_create(
        organisation=personas.org, name="alice laptop", public_key=ED25519, actor=personas.owner
    )
    billing_services.budget_create(organisation=personas.org, actor=personas.owner, name="Monthly", amount="60")
    out = SHOTS if os.environ.get("VMCLOUD_DOCS_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    page = login_page(personas.owner)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/dashboard/")
    for theme in ("light", "dark"):
        page.evaluate(f"window.localStorage.setItem('vmcloud-theme', '{theme}')")
        page.goto("/dashboard/")
        page.locator("#onboarding-checklist").wait_for()
        page.screenshot(path=str(out / f"dashboard-{theme}.png"))
        page.locator("body").press("/")
        page.keyboard.type("web")
        page.locator("#search-dialog-results a.search-hit").first.wait_for()
        page.screenshot(path=str(out / f"search-{theme}.png"))
    assert all(
        (out / f"{shot}-{theme}.png").stat().st_size > 10_000
        for shot in ("dashboard", "search")
        for theme in ("light", "dark")
    )
