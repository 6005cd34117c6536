"""Teams API findings of the security audit (issue 10): CSV errors, "require MFA", project grants."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# -- audit CSV errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("csv_url", ["audit-events.csv", "audit-events/?format=csv"])
def test_audit_csv_errors_are_the_json_error_body(world, csv_url):
    base = f"/api/v1/organisations/{world.org.pk}/"
    sep = "&" if "?" in csv_url else "?"
    bad = client_for(world.admin).get(f"{base}{csv_url}{sep}since=not-a-date")
    assert bad.status_code == 400
    assert bad["Content-Type"].startswith("application/json")
    assert "since" in bad.json()["error"]["fields"]
    forbidden = client_for(world.member).get(f"{base}{csv_url}")
    assert forbidden.status_code == 403
    assert forbidden["Content-Type"].startswith("application/json")
    assert forbidden.json()["error"]["code"] == "permission_denied"
    anonymous = APIClient().get(f"{base}{csv_url}")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"


# -- "require MFA" needs an actor with MFA ----------------------------------------------------------------
def _enrol_totp(user) -> None:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(user, generate_totp_secret())
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def _token_client(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.plaintext}")
    return client


def test_token_without_mfa_cannot_require_mfa_and_lock_everyone_out(world):
    from apps.teams.models import Organisation
    from tests.factories import ApiTokenFactory

    token = ApiTokenFactory(user=world.admin, organisation=world.org)
    client = _token_client(token)
    url = f"/api/v1/organisations/{world.org.pk}/"
    response = client.patch(url, {"require_mfa": True}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "mfa_not_enrolled"
    assert "require_mfa" in error["fields"]
    assert Organisation.objects.get(pk=world.org.pk).require_mfa is False
    # The token still works: nothing was locked.
    assert client.get(url).status_code == 200
    # Once its holder has a second factor, the same request passes, and the token keeps working.
    _enrol_totp(world.admin)
    assert client.patch(url, {"require_mfa": True}, format="json").status_code == 200
    assert Organisation.objects.get(pk=world.org.pk).require_mfa is True
    assert client.get(url).status_code == 200
    # Turning it off never needs MFA; saving other settings while it is on is not blocked either.
    assert client.patch(url, {"name": "Acme Ltd"}, format="json").status_code == 200


def test_portal_settings_form_refuses_require_mfa_without_mfa(world):
    from django.test import Client

    from apps.teams.models import Organisation

    client = Client()
    client.force_login(world.owner)
    response = client.post("/org/settings/", {"section": "settings", "name": "Acme", "require_mfa": "on"})
    assert response.status_code == 200
    assert "two-factor" in response.content.decode().lower()
    assert response.context["settings_form"].errors.get("require_mfa")
    assert Organisation.objects.get(pk=world.org.pk).require_mfa is False
    _enrol_totp(world.owner)
    response = client.post("/org/settings/", {"section": "settings", "name": "Acme", "require_mfa": "on"})
    assert response.status_code == 302
    assert Organisation.objects.get(pk=world.org.pk).require_mfa is True
