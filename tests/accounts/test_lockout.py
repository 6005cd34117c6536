"""Brute-force protection: atomic counters hold under concurrency, for passwords and MFA codes."""

from __future__ import annotations

import threading

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from apps.accounts.services import lockout
from tests.conftest import PASSWORD

WRONG = "The email address and/or password you specified are not correct."
LOCKED = "Too many failed login attempts. Try again later."


def _login(client: Client, email: str, password: str) -> str:
    response = client.post(reverse("account_login"), {"login": email, "password": password})
    body = response.content.decode()
    if response.status_code == 302:
        return "ok"
    if LOCKED in body:
        return "locked"
    if WRONG in body:
        return "wrong"
    return f"unexpected {response.status_code}"


# allauth's own per-IP "login" limit (30/min) takes a spin lock per request and
# answers 429 to requests that cannot get it in time: lift it here to measure
# our counters alone.
OUR_COUNTERS_ONLY = {"login_failed": None, "login": None}


@pytest.mark.django_db(transaction=True)
@override_settings(LOGIN_ATTEMPTS_LIMIT=5, ACCOUNT_RATE_LIMITS=OUR_COUNTERS_ONLY)
def test_twenty_simultaneous_wrong_passwords_evaluate_exactly_five(verified_user):
    barrier = threading.Barrier(20)
    results: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        client = Client()
        try:
            barrier.wait()
            outcome = _login(client, verified_user.email, "not-the-password-123")
            with lock:
                results.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count("wrong") == 5, results
    assert results.count("locked") == 15, [r for r in results if r not in ("wrong", "locked")]
    # The right password is refused too while the lock holds.
    assert _login(Client(), verified_user.email, PASSWORD) == "locked"


@pytest.mark.django_db
@override_settings(LOGIN_ATTEMPTS_LIMIT=3)
def test_successful_login_gives_its_slot_back_but_does_not_reset_failures(verified_user):
    client = Client()
    assert _login(client, verified_user.email, "wrong-password-1") == "wrong"
    assert _login(client, verified_user.email, "wrong-password-2") == "wrong"
    assert _login(Client(), verified_user.email, PASSWORD) == "ok"
    assert _login(client, verified_user.email, "wrong-password-3") == "wrong"
    assert _login(client, verified_user.email, "wrong-password-4") == "locked"


@pytest.mark.django_db
@override_settings(LOGIN_ATTEMPTS_LIMIT=2)
def test_lockout_is_per_address(verified_user, django_user_model):
    for _ in range(3):
        _login(Client(), verified_user.email, "wrong-password")
    assert _login(Client(), verified_user.email, PASSWORD) == "locked"
    other = django_user_model.objects.create_user(email="bob@example.org", password=PASSWORD)
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=other, email=other.email, verified=True, primary=True)
    assert _login(Client(), other.email, PASSWORD) == "ok"


@pytest.mark.django_db(transaction=True)
@override_settings(MFA_ATTEMPTS_LIMIT=5, ACCOUNT_RATE_LIMITS=OUR_COUNTERS_ONLY)
def test_simultaneous_wrong_totp_codes_are_limited(verified_user):
    secret = generate_totp_secret()
    TOTP.activate(verified_user, secret)
    valid = TOTP(Authenticator.objects.get(user=verified_user, type=Authenticator.Type.TOTP))
    assert valid.instance.pk
    clients = []
    for _ in range(12):
        client = Client()
        assert (
            client.post(reverse("account_login"), {"login": verified_user.email, "password": PASSWORD}).status_code
            == 302
        )
        clients.append(client)
    barrier = threading.Barrier(len(clients))
    results: list[str] = []
    lock = threading.Lock()

    def attempt(client: Client) -> None:
        try:
            barrier.wait()
            body = client.post(reverse("mfa_authenticate"), {"code": "000000"}).content.decode()
            with lock:
                results.append("locked" if LOCKED in body else "wrong" if "Incorrect code" in body else body[:200])
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("wrong") == 5, results
    assert results.count("locked") == 7, results


def test_reserve_and_release_count_atomically():
    limits = {"unit": ("someone@example.org", 2)}
    lockout.attempts_clear("unit", "someone@example.org")
    first, second, third = (lockout.attempt_reserve(limits) for _ in range(3))
    assert (first.allowed, second.allowed, third.allowed) == (True, True, False)
    lockout.attempt_release(first)
    lockout.attempt_release(third)
    assert lockout.attempt_reserve(limits).allowed is True
    lockout.attempts_clear("unit", "someone@example.org")
