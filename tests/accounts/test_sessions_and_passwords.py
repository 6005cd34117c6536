"""Sessions rotate at login and expire when idle; password hashing and rules meet OWASP ASVS level 2."""

from __future__ import annotations

import importlib

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from config.settings import base as base_settings
from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_session_key_rotates_at_login(verified_user):
    client = Client()
    client.get(reverse("account_login"))
    session = client.session  # an anonymous session exists before login
    session["probe"] = 1
    session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    response = client.post(reverse("account_login"), {"login": verified_user.email, "password": PASSWORD})
    assert response.status_code == 302
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert client.session.get("_auth_user_id") == str(verified_user.pk)


def test_sessions_expire_when_idle_and_production_cookies_are_secure(monkeypatch):
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_AGE <= 12 * 60 * 60
    assert settings.SESSION_COOKIE_HTTPONLY is True
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    monkeypatch.setenv("ALLOWED_HOSTS", "portal.vmcloud.example")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")  # production refuses to start without them
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY", "k" * 44)
    production = importlib.import_module("config.settings.production")

    assert production.SESSION_COOKIE_SECURE is True
    assert production.CSRF_COOKIE_SECURE is True


def test_password_hashing_meets_asvs_level_2():
    # ASVS 2.4.5 (v4.0.3): PBKDF2 with at least 600,000 iterations for SHA-256
    # (OWASP Password Storage Cheat Sheet); Django 5.2 uses 1,000,000.
    hasher_setting = getattr(base_settings, "PASSWORD_HASHERS", None)
    assert hasher_setting is None or hasher_setting[0].endswith("PBKDF2PasswordHasher")
    assert PBKDF2PasswordHasher.iterations >= 600_000


def test_password_rules_meet_asvs_level_2():
    # ASVS 2.1.1: at least 12 characters; 2.1.7: refuse common/breached passwords.
    with pytest.raises(ValidationError):
        validate_password("short-pw1")
    with pytest.raises(ValidationError):
        validate_password("password1234")
    validate_password("a-long-passphrase-42")
