"""Identity flows clicked through in Chromium: sign-up, email verification, TOTP enrolment, login with TOTP,
account deletion, and the suspension message."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from django.core import mail

from apps.accounts.services import user_suspend
from apps.teams.models import Organisation
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-long-passphrase-42"


def _totp(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def _submit(page, form_selector: str = "main form") -> None:
    page.locator(f"{form_selector} [type=submit]").first.click()


def test_sign_up_verify_enrol_totp_then_log_in_with_totp(page, django_user_model):
    mail.outbox.clear()
    page.goto("/accounts/signup/")
    page.fill("#id_email", "grace@startup.test")
    page.fill("#id_password1", NEW_PASSWORD)
    page.fill("#id_password2", NEW_PASSWORD)
    _submit(page)
    page.wait_for_url("**/accounts/confirm-email/")
    assert "Verify" in page.locator("h1").first.inner_text()

    # The verification e-mail (locmem backend: the live server shares our process).
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    _submit(page)
    page.wait_for_url("**/dashboard/")
    user = django_user_model.objects.get(email="grace@startup.test")
    assert Organisation.objects.filter(memberships__user=user, is_personal=True).exists()

    # TOTP enrolment; allauth asks for the password again first (reauthentication).
    page.goto("/accounts/2fa/totp/activate/")
    if "/reauthenticate/" in page.url:
        page.fill("#id_password", NEW_PASSWORD)
        _submit(page)
        page.wait_for_url("**/2fa/totp/activate/")
    secret = page.input_value("#authenticator_secret")
    page.fill("#id_code", _totp(secret))
    _submit(page)
    page.wait_for_url(re.compile(r".*/accounts/2fa/(recovery-codes/)?$"))
    assert user.authenticator_set.filter(type="totp").exists()

    # Log out.
    page.goto("/accounts/logout/")
    _submit(page)
    page.wait_for_url(lambda url: "/accounts/logout/" not in url)

    # Log in again: password, then the code.
    page.goto("/accounts/login/")
    page.fill("#id_login", "grace@startup.test")
    page.fill("#id_password", NEW_PASSWORD)
    page.locator("form[action='/accounts/login/'] [type=submit]").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.fill("#id_code", _totp(secret))
    _submit(page)
    page.wait_for_url("**/dashboard/")
    assert page.locator("h1").first.inner_text() == "Dashboard"


def _verified_user(django_user_model, email: str):
    from allauth.account.models import EmailAddress

    user = django_user_model.objects.create_user(email=email, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def test_suspended_user_sees_the_reason_at_login(page, django_user_model, staff_user):
    user = _verified_user(django_user_model, "mallory@example.org")
    user_suspend(user=user, reason="Payment dispute under review", actor=staff_user)
    page.goto("/accounts/login/")
    page.fill("#id_login", user.email)
    page.fill("#id_password", PASSWORD)
    page.locator("form[action='/accounts/login/'] [type=submit]").click()
    page.wait_for_selector("text=Account suspended")
    assert "Payment dispute under review" in page.content()


def test_user_deletes_their_account_in_the_portal(login_page, django_user_model):
    user = _verified_user(django_user_model, "leaving@example.org")
    page = login_page(user)
    page.goto("/accounts/delete/")
    page.fill("#id_confirm_email", user.email)
    page.fill("#id_password", PASSWORD)
    page.locator("#account-delete-form [type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/delete/" not in url)
    assert not django_user_model.objects.filter(email="leaving@example.org").exists()
