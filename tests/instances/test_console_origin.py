"""The console proxy refuses WebSocket handshakes from foreign pages (Origin check, RFC 6455 §10.2)."""

from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from apps.instances.consoleproxy import origin_allowed
from apps.instances.models import ConsoleSession
from apps.instances.services import console
from tests.instances import test_console

# Fixtures shared with the proxy tests (a running instance on the simulator, the console proxy).
instance = test_console.instance
proxy_url = test_console.proxy_url


@pytest.fixture
def platform(settings):
    settings.ALLOWED_HOSTS = ["portal.vmcloud.test", ".customers.vmcloud.test", "[::1]"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://admin.vmcloud.test", "https://*.partner.test"]
    settings.CONSOLE_ALLOWED_ORIGINS = []
    return settings


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://portal.vmcloud.test", True),
        ("http://portal.vmcloud.test:8000", True),  # the portal on its own port, the proxy on another
        ("https://eu.customers.vmcloud.test", True),
        ("https://admin.vmcloud.test", True),
        ("https://shop.partner.test", True),
        ("http://[::1]:8000", True),
        (None, True),  # not a browser: browsers always send Origin on a WebSocket handshake
        ("https://evil.test", False),
        ("https://portal.vmcloud.test.evil.test", False),
        ("http://admin.vmcloud.test", False),  # CSRF_TRUSTED_ORIGINS pins the scheme
        ("null", False),  # sandboxed iframe, file://
        ("ftp://portal.vmcloud.test", False),
        ("", False),
    ],
)
def test_origin_rules_follow_the_platforms_hosts(platform, origin, allowed):
    assert origin_allowed(origin) is allowed


def test_explicit_setting_replaces_the_derived_list(platform):
    platform.CONSOLE_ALLOWED_ORIGINS = ["https://console.vmcloud.test"]
    assert origin_allowed("https://console.vmcloud.test")
    assert origin_allowed("HTTPS://Console.VMCloud.test")
    assert not origin_allowed("https://portal.vmcloud.test")
    assert not origin_allowed("https://admin.vmcloud.test")


def test_allowed_hosts_star_allows_any_origin(settings):
    """The local settings' ALLOWED_HOSTS = ["*"] (dev only) keeps working with any page."""
    settings.ALLOWED_HOSTS = ["*"]
    settings.CONSOLE_ALLOWED_ORIGINS = []
    assert origin_allowed("http://192.168.1.20:8000")


@pytest.mark.django_db(transaction=True)
def test_proxy_refuses_a_foreign_origin_without_spending_the_ticket(personas, instance, proxy_url, platform):
    ticket = console.console_ticket_issue(instance=instance, actor=personas.member)
    url = f"{proxy_url}/console/{ticket.token}"

    with pytest.raises(InvalidStatus) as refused:
        connect(url, origin=Origin("https://evil.test"), open_timeout=10)
    assert refused.value.response.status_code == 403
    session = ConsoleSession.objects.get(pk=ticket.session.pk)
    assert session.used_at is None  # the ticket is still good for the customer's own page

    with connect(url, origin=Origin("https://portal.vmcloud.test"), max_size=None, open_timeout=10) as ws:
        assert ws.recv(timeout=10)[:12] == b"RFB 003.008\n"
    session.refresh_from_db()
    assert session.used_at is not None


@pytest.mark.django_db(transaction=True)
def test_proxy_lets_a_non_browser_client_in(personas, instance, proxy_url, platform):
    ticket = console.console_ticket_issue(instance=instance, actor=personas.member)
    with connect(f"{proxy_url}/console/{ticket.token}", max_size=None, open_timeout=10) as ws:
        assert ws.recv(timeout=10)[:12] == b"RFB 003.008\n"
    with connect(f"{proxy_url}/console/{ticket.token}") as ws, pytest.raises(ConnectionClosed):
        ws.recv(timeout=10)
