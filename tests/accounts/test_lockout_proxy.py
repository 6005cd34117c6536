"""Lockout and anonymous limits behind a reverse proxy: the client address comes from trusted proxies only,
and no per-address counter can lock out correct logins of everyone else."""

from __future__ import annotations

import uuid

import pytest
from allauth.account.models import EmailAddress
from django.test import Client, RequestFactory
from django.test.utils import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from apps.core.middleware import client_ip
from tests.conftest import PASSWORD

PROXY = "10.0.0.2"  # our TLS proxy, as REMOTE_ADDR
EDGE = "10.0.5.9"  # a second trusted hop (e.g. a load balancer in front of it)
TRUSTED = ["10.0.0.0/16"]
LOCKED = "Too many failed login attempts. Try again later."
# allauth's own per-address "login" limit is lifted to measure our counters alone.
OUR_COUNTERS_ONLY = {"login_failed": None, "login": None}


def _via_proxy(client_address: str, *, forged: str = "") -> dict[str, str]:
    """What the proxy sends us: its own address as the peer, the client appended to X-Forwarded-For."""
    chain = f"{forged}, {client_address}" if forged else client_address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": chain}


def _meta(**meta: str):
    return RequestFactory().get("/", **meta)


# -- where the address comes from --------------------------------------------------------------------------
@override_settings(TRUSTED_PROXIES=TRUSTED)
def test_behind_a_trusted_proxy_the_appended_address_is_the_client():
    assert client_ip(_meta(**_via_proxy("203.0.113.9"))) == "203.0.113.9"
    # Whatever the client put in front is ignored: only the proxy's own append counts.
    assert client_ip(_meta(**_via_proxy("203.0.113.9", forged="198.51.100.1"))) == "203.0.113.9"
    # Several trusted hops are skipped from the right.
    assert client_ip(_meta(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"6.6.6.6, 203.0.113.9, {EDGE}")) == "203.0.113.9"
    # IPv6 clients too.
    assert client_ip(_meta(**_via_proxy("2001:db8::7"))) == "2001:db8::7"
    # A request from the proxy itself (a health check) is the proxy.
    assert client_ip(_meta(REMOTE_ADDR=PROXY)) == PROXY
    assert client_ip(_meta(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{EDGE}")) == PROXY
    assert client_ip(_meta(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="not-an-ip")) == PROXY


@override_settings(TRUSTED_PROXIES=TRUSTED)
def test_a_client_connecting_directly_cannot_forge_its_address():
    forged = _meta(REMOTE_ADDR="198.51.100.77", HTTP_X_FORWARDED_FOR=f"203.0.113.9, {PROXY}")
    assert client_ip(forged) == "198.51.100.77"


@override_settings(TRUSTED_PROXIES=[])
def test_without_trusted_proxies_headers_are_never_read():
    assert client_ip(_meta(**_via_proxy("203.0.113.9"))) == PROXY


# -- lockout behind the proxy ------------------------------------------------------------------------------
def _verified(django_user_model, email: str):
    user = django_user_model.objects.create_user(email=email, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def _login(email: str, password: str, address: str) -> str:
    client = Client(**_via_proxy(address))
    response = client.post(reverse("account_login"), {"login": email, "password": password})
    if response.status_code == 302:
        return "ok"
    return "locked" if LOCKED in response.content.decode() else "wrong"


@pytest.mark.django_db
@override_settings(
    TRUSTED_PROXIES=TRUSTED,
    LOGIN_ATTEMPTS_LIMIT=3,
    LOGIN_ATTEMPTS_IP_LIMIT=5,
    LOGIN_ATTEMPTS_ACCOUNT_LIMIT=8,
    ACCOUNT_RATE_LIMITS=OUR_COUNTERS_ONLY,
)
def test_spraying_through_the_proxy_locks_only_the_attackers_address(django_user_model):
    victim = _verified(django_user_model, "victim@example.org")
    attacker = "203.0.113.66"
    # Wrong passwords for many accounts from one address, all through the shared proxy.
    outcomes = [_login(f"user{i}@example.org", "wrong-password-1", attacker) for i in range(8)]
    assert outcomes == ["wrong"] * 5 + ["locked"] * 3
    assert _login(victim.email, PASSWORD, attacker) == "locked"  # the attacker's address is held...
    # ... everyone else behind the same proxy logs in.
    assert _login(victim.email, PASSWORD, "198.51.100.20") == "ok"
    assert _login(victim.email, PASSWORD, "2001:db8::20") == "ok"


@pytest.mark.django_db
@override_settings(
    TRUSTED_PROXIES=TRUSTED,
    LOGIN_ATTEMPTS_LIMIT=3,
    LOGIN_ATTEMPTS_IP_LIMIT=50,
    LOGIN_ATTEMPTS_ACCOUNT_LIMIT=8,
    ACCOUNT_RATE_LIMITS=OUR_COUNTERS_ONLY,
)
def test_guessing_one_account_locks_that_address_not_the_owner(django_user_model):
    victim = _verified(django_user_model, "owner@example.org")
    attacker = "203.0.113.67"
    outcomes = [_login(victim.email, f"wrong-{i}", attacker) for i in range(20)]
    assert outcomes == ["wrong"] * 3 + ["locked"] * 17
    # The 17 refused attempts checked no password and did not count account-wide:
    # the owner, from a fresh address, still gets in with the right password.
    assert _login(victim.email, PASSWORD, "198.51.100.21") == "ok"


@pytest.mark.django_db
@override_settings(
    TRUSTED_PROXIES=TRUSTED,
    LOGIN_ATTEMPTS_LIMIT=3,
    LOGIN_ATTEMPTS_IP_LIMIT=50,
    LOGIN_ATTEMPTS_ACCOUNT_LIMIT=6,
    ACCOUNT_RATE_LIMITS=OUR_COUNTERS_ONLY,
)
def test_a_distributed_attack_on_an_account_spares_the_owners_usual_address(django_user_model):
    victim = _verified(django_user_model, "target@example.org")
    home = "198.51.100.30"
    assert _login(victim.email, PASSWORD, home) == "ok"  # the owner's usual address becomes known
    # Many addresses, each under its own limit, exhaust the account-wide counter.
    outcomes = [_login(victim.email, "wrong-password", f"203.0.113.{100 + i}") for i in range(8)]
    assert outcomes == ["wrong"] * 6 + ["locked"] * 2
    assert _login(victim.email, PASSWORD, "192.0.2.200") == "locked"  # a new address waits for the window
    assert _login(victim.email, PASSWORD, home) == "ok"  # the usual one does not


# -- anonymous API limits behind the proxy -----------------------------------------------------------------
@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=TRUSTED)
def test_anonymous_api_buckets_follow_the_client_behind_the_proxy(settings):
    settings.API_RATE_LIMITS = {"token": (100, 60), "user": (100, 60), "anonymous": (2, 60)}
    first, second = f"2001:db8:1::{uuid.uuid4().hex[:4]}", f"2001:db8:2::{uuid.uuid4().hex[:4]}"
    url = "/api/v1/catalogue/families/"
    statuses = [APIClient(**_via_proxy(first)).get(url).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    # Another client behind the same proxy has its own bucket, and forging a header does not buy a new one.
    assert APIClient(**_via_proxy(second)).get(url).status_code == 200
    assert APIClient(**_via_proxy(first, forged=second)).get(url).status_code == 429
