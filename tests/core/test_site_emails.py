"""E-mails name VMCloud, not example.com: the sites row comes from settings (issue 11, item 11)."""

from __future__ import annotations

import pytest
from django.contrib.sites.models import Site
from django.core import mail

from apps.core.services import site_configure

pytestmark = pytest.mark.django_db


def test_migrations_set_the_site_from_settings(settings):
    # The test database was built by the migrations, core 0003 included.
    site = Site.objects.get(pk=settings.SITE_ID)
    assert (site.name, site.domain) == ("VMCloud", "127.0.0.1:8000")


def test_verification_email_subject_names_vmcloud(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@customer.test", "password1": "a-Long-passw0rd!", "password2": "a-Long-passw0rd!"},
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    subject = mail.outbox[0].subject
    assert subject.startswith("[VMCloud] "), subject
    assert "example.com" not in subject and "example.com" not in mail.outbox[0].body
    assert "127.0.0.1:8000" in mail.outbox[0].body


def test_site_follows_a_changed_site_url(settings):
    settings.SITE_URL = "https://console.vmcloud.eu"
    site_configure()
    assert Site.objects.get_current().domain == "console.vmcloud.eu"
