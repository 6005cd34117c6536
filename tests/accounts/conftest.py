"""Accounts fixtures: a verified user (allauth refuses unverified logins with mandatory verification)."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from tests.conftest import PASSWORD
from tests.factories import UserFactory


@pytest.fixture
def verified_user(db):
    user = UserFactory(email="ada@example.org", password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture(autouse=True)
def _fresh_counters():
    """Rate-limit and lockout counters live in Redis: start each test from zero (our key prefix only)."""
    from django.core.cache import cache

    cache.delete_pattern("*")
    yield
    cache.delete_pattern("*")
