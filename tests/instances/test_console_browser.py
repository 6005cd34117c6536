"""The browser console, clicked through: noVNC (served by the app) connects through the platform's proxy."""

from __future__ import annotations

import pytest

from tests.instances import test_console

# Fixtures shared with the proxy tests (a running instance on the simulator, the console proxy).
instance = test_console.instance
proxy_url = test_console.proxy_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_member_opens_the_console_and_it_connects_without_revealing_the_node(
    login_page,
    personas,
    instance,
    proxy_url,
    settings,
):
    settings.CONSOLE_PROXY_PUBLIC_URL = proxy_url
    page = login_page(personas.member)
    page.goto(f"/servers/{instance.public_id}/console/")
    page.click("#open-console")

    page.wait_for_selector('#vnc-console[data-state="connected"]', timeout=20_000)

    assert page.locator("#vnc-screen canvas").count() >= 1
    html = page.content()
    assert instance.node_name and instance.node_name not in html
    assert "8006" not in html and "PVEVNC" not in html
