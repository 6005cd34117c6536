"""Shared fixtures: personas, the shop, API clients, and a Playwright-driven Chromium.

``personas`` is the one set of users every app's tests act as (owner, admin, billing,
member, viewer of one organisation, an outsider who owns another, staff); ``shop`` is
what they can order. Both are built by functions of ``tests/factories.py``
(``Personas`` and ``Shop`` document their fields). An app's tests that need more
build on them under another name (``fleet`` in ``tests/instances``), never a second
``personas`` (``tests/core/test_fixtures_shape.py`` checks).

Browser tests use Debian's chromium (`/usr/bin/chromium`) through Playwright's
sync API against pytest-django's ``live_server``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator

import pytest
from rest_framework.test import APIClient

from tests.browser_diagnostics import browser_failure_explain, browser_requests_follow
from tests.factories import Personas, Shop, personas_create, shop_create

# Proxmox VE simulator fixtures: pvesim, pvesim_session, pve_driver, pve_driver_session.
pytest_plugins = ["tests.pvesim_fixtures"]

# Playwright's sync API runs an event loop in the test thread; Django refuses
# ORM calls from a thread with a running loop unless told it is safe. Our code
# has no async views, so the check would only stop the tests themselves.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct-horse-battery"


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def personas(db) -> Personas:
    """The users of every test (``tests.factories.Personas``): Acme's owner, admin, billing, member, viewer;
    Globex's owner as the outsider; back-office staff."""
    return personas_create()


@pytest.fixture
def shop(db) -> Shop:
    """What the personas can order (``tests.factories.Shop``): PAR-1 with its nodes, VPS, GPU and managed offers."""
    return shop_create()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(email="alice@example.com", password=PASSWORD)


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_superuser(email="staff@vmcloud.test", password=PASSWORD)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"browser tests need Debian's chromium at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item, so a fixture's teardown knows whether the test failed.
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(browser, live_server, request) -> Iterator[object]:
    """A fresh browser context (no cookies, no storage) on the live server."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    # A bound on waiting, not a speed check: on 2 cores the live server shares the CPU with the
    # other xdist worker (often the schemathesis stage's own two workers), and a wizard POST that
    # places and creates a server took over 10 s there once.
    context.set_default_timeout(30_000)
    in_flight = browser_requests_follow(context)
    pg = context.new_page()
    yield pg
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        browser_failure_explain(in_flight, page=pg)
    context.close()


@pytest.fixture
def login_page(page, client, live_server) -> Callable[[object], object]:
    """Log a user into the browser page by reusing a Django test-client session."""

    def _login(user):
        client.force_login(user)
        cookie = client.cookies["sessionid"]
        page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])
        return page

    return _login
