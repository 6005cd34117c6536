"""The portal shell over HTTP: layout, account menu, console sidebar, messages, language switcher."""

from __future__ import annotations

import re

import pytest
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.test import RequestFactory

pytestmark = pytest.mark.django_db


def test_home_explains_the_product_and_invites_anonymous_visitors_to_sign_up(client):
    from apps.catalogue.services import catalogue_load_seed

    # The datacentre cards come from the catalogue (tests/portal/test_home_facts.py checks them against it).
    catalogue_load_seed(actor=None)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/accounts/signup/"' in html
    assert 'href="/accounts/login/"' in html
    assert 'href="/pricing/"' in html
    for code in ["PAR-1", "AMS-1", "FRA-1"]:
        assert code in html
    for family in ["VPS", "GPU cloud", "Web hosting", "PaaS", "Load balancers", "Block storage", "CDN"]:
        assert family in html
    assert "account-menu" not in html


def test_layout_has_skip_link_main_landmark_and_main_navigation(client):
    html = client.get("/").content.decode()
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main" tabindex="-1">' in html
    nav = html[html.index('class="main-nav"') : html.index("</nav>")]
    for href in ["/pricing/", "/docs/", "/api/docs/"]:
        assert f'href="{href}' in nav


def test_signed_in_visitors_get_the_account_menu_with_a_post_logout(client, user):
    client.force_login(user)
    html = client.get("/").content.decode()
    assert user.email in html
    assert 'href="/accounts/email/"' in html
    logout = re.search(r'<form method="post" action="/accounts/logout/">(.*?)</form>', html, re.DOTALL)
    assert logout is not None
    assert "csrfmiddlewaretoken" in logout.group(1)
    assert 'href="/accounts/signup/"' not in html


def test_dashboard_requires_login(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_dashboard_shows_the_console_sidebar_and_an_empty_state(client, user):
    client.force_login(user)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="console-sidebar"' in html
    for href in SIDEBAR_LINKS:
        assert f'<a href="{href}"' in html
    assert '<a href="/dashboard/" aria-current="page">' in html
    assert 'class="empty-state"' in html


def test_messages_render_as_alerts_with_the_right_level(rf: RequestFactory, user):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.cache import SessionStore

    request: HttpRequest = rf.get("/")
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    messages.success(request, "Server created.")
    messages.error(request, "Payment failed.")
    response: HttpResponse = render(request, "portal/dashboard.html")
    html = response.content.decode()
    assert '<div class="alert alert-success">' in html
    assert '<div class="alert alert-danger">' in html
    assert "Server created." in html and "Payment failed." in html


def test_language_switcher_posts_to_set_language_and_switches_to_french(client):
    html = client.get("/docs/").content.decode()
    assert 'action="/i18n/setlang/"' in html
    assert '<option value="fr" lang="fr">' in html
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/docs/"})
    assert response.status_code == 302
    assert response["Location"] == "/docs/"
    assert '<html lang="fr">' in client.get("/docs/").content.decode()


def test_every_asset_is_served_by_the_app(client, user):
    client.force_login(user)
    for url in ["/", "/dashboard/", "/docs/", "/docs/getting-started/"]:
        html = client.get(url).content.decode()
        for attr in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not attr.startswith(("http://", "https://", "//")), f"{url} links an external asset: {attr}"


@pytest.mark.parametrize(
    "path", ["/static/css/vmcloud.css", "/static/js/vmcloud.js", "/static/js/theme-init.js", "/static/img/icons.svg"]
)
def test_design_system_files_are_served(client, path):
    response = client.get(path)
    assert response.status_code == 200


SIDEBAR_LINKS = ["/dashboard/", "/servers/", "/orders/", "/ssh-keys/", "/org/", "/tokens/", "/audit/"]


def test_every_console_sidebar_link_leads_somewhere(client, user):
    from apps.teams.services import personal_organisation_ensure

    personal_organisation_ensure(user=user)
    client.force_login(user)
    for href in SIDEBAR_LINKS:
        response = client.get(href)
        assert response.status_code in (200, 302), f"{href}: {response.status_code}"
