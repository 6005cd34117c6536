"""Nothing reaches a third party (issue 11, item 10): every public and portal page loads in Chromium
without a single request leaving the platform's origin (no CDN fonts, scripts or images)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from playwright.sync_api import Error as PlaywrightError

from apps.docs import selectors as docs_selectors

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Namespaces of HTML pages (public and portal); the API, admin and machine endpoints are not pages.
PAGE_NAMESPACES = {"portal", "orders", "instances", "billing", "teams", "catalogue", "docs", "accounts", "sso"}
PUBLIC = ["/", "/pricing/", "/pricing/compare/", "/docs/", "/docs/search/?q=server", "/api/docs/", "/api/redoc/"]
SKIP = ("/logout/", "/export", ".csv", ".pdf", "/confirm-email/")


def _plain_routes(patterns, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    """(path, namespace) of every route without parameters."""
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            if "<" in route or "(?P" in route:
                continue
            yield from _plain_routes(entry.url_patterns, prefix + route, entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and "<" not in route and "(?P" not in route and "^" not in route:
            yield "/" + prefix + route, namespace


def _portal_pages() -> list[str]:
    paths = sorted(
        {path for path, namespace in _plain_routes(get_resolver().url_patterns) if namespace in PAGE_NAMESPACES}
    )
    return [p for p in paths if not any(s in p for s in SKIP)]


def _visit(page, live_server, paths: list[str]) -> dict[str, list[str]]:
    leaks: dict[str, list[str]] = {}
    current = {"path": ""}

    def on_request(request) -> None:
        url = request.url
        if url.startswith((live_server.url, "data:", "blob:", "about:")):
            return
        leaks.setdefault(current["path"], []).append(url)

    def on_failed(request) -> None:
        # Refused by the page's own Content-Security-Policy (Redoc's Redocly logo): it never left the browser.
        if "csp" in (request.failure or "").lower():
            urls = leaks.get(current["path"], [])
            if request.url in urls:
                urls.remove(request.url)
            if not urls:
                leaks.pop(current["path"], None)

    page.on("request", on_request)
    page.on("requestfailed", on_failed)
    for path in paths:
        current["path"] = path
        # A POST-only route answers 405 with no page: its requests still count.
        with contextlib.suppress(PlaywrightError):
            page.goto(path, wait_until="networkidle")
    return leaks


@pytest.mark.usefixtures("personas", "shop")
def test_public_pages_request_nothing_from_another_origin(page, live_server):
    docs = [f"/docs/{p.slug}/" for p in docs_selectors.page_list()]
    assert _visit(page, live_server, PUBLIC + docs) == {}


@pytest.mark.usefixtures("shop")
def test_portal_pages_request_nothing_from_another_origin(login_page, live_server, personas):
    page = login_page(personas.owner)
    paths = _portal_pages()
    assert "/orders/new/" in paths and "/dashboard/" in paths
    assert _visit(page, live_server, paths) == {}
