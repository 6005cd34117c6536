"""Every identity page renders in the portal's design (entrance card or console), never allauth's bare HTML."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ENTRANCE = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/accounts/password/reset/done/",
]
MANAGE = [
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/2fa/",
    "/accounts/2fa/webauthn/",
    "/accounts/delete/",
    "/accounts/3rdparty/",
]


@pytest.mark.parametrize("path", ENTRANCE)
def test_entrance_pages_use_the_centred_card(client, path):
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert "auth-card" in body and 'class="topbar' in body
    assert "<strong>Menu:</strong>" not in body  # allauth's unstyled layout


@pytest.mark.parametrize("path", MANAGE)
def test_account_pages_use_the_console(verified_user, path):
    client = Client()
    client.force_login(verified_user)
    response = client.get(path)
    assert response.status_code == 200, path
    body = response.content.decode()
    assert "console-sidebar" in body
    assert "<strong>Menu:</strong>" not in body


def test_login_page_offers_continue_with_sso(client):
    body = client.get("/accounts/login/").content.decode()
    assert "Continue with SSO" in body
    assert 'action="/org/sso/discover/"' in body
