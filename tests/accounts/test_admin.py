"""The back office can create and edit email-only users."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_staff_create_an_email_only_user_with_a_validated_password(staff_user, django_user_model):
    client = Client()
    client.force_login(staff_user)
    url = reverse("admin:accounts_user_add")
    weak = client.post(url, {"email": "new@example.org", "password1": "short", "password2": "short"})
    assert weak.status_code == 200
    assert not django_user_model.objects.filter(email="new@example.org").exists()
    ok = client.post(
        url,
        {
            "email": "New@Example.org",
            "full_name": "New Person",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert ok.status_code == 302, ok.content[:2000]
    user = django_user_model.objects.get(email="new@example.org")
    assert user.check_password("a-long-passphrase-42")
    assert AuditEvent.objects.filter(action="accounts.user.create", actor_kind="staff").exists()


def test_staff_open_the_change_form(staff_user, user):
    client = Client()
    client.force_login(staff_user)
    response = client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert response.status_code == 200
    assert b"suspension" in response.content.lower()
