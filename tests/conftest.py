"""Shared fixtures: personas, API clients."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(email="alice@example.com", password="correct-horse-battery")


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_superuser(email="staff@vmcloud.test", password="correct-horse-battery")
