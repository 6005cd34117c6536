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
def test_audit_csv_errors_are_the_json_error_body(personas, csv_url):
    base = f"/api/v1/organisations/{personas.org.pk}/"
    sep = "&" if "?" in csv_url else "?"
    bad = client_for(personas.admin).get(f"{base}{csv_url}{sep}since=not-a-date")
    assert bad.status_code == 400
    assert bad["Content-Type"].startswith("application/json")
    assert "since" in bad.json()["error"]["fields"]
    forbidden = client_for(personas.member).get(f"{base}{csv_url}")
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


def test_token_without_mfa_cannot_require_mfa_and_lock_everyone_out(personas):
    from apps.teams.models import Organisation
    from tests.factories import ApiTokenFactory

    token = ApiTokenFactory(user=personas.admin, organisation=personas.org)
    client = _token_client(token)
    url = f"/api/v1/organisations/{personas.org.pk}/"
    response = client.patch(url, {"require_mfa": True}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "mfa_not_enrolled"
    assert "require_mfa" in error["fields"]
    assert Organisation.objects.get(pk=personas.org.pk).require_mfa is False
    # The token still works: nothing was locked.
    assert client.get(url).status_code == 200
    # Once its holder has a second factor, the same request passes, and the token keeps working.
    _enrol_totp(personas.admin)
    assert client.patch(url, {"require_mfa": True}, format="json").status_code == 200
    assert Organisation.objects.get(pk=personas.org.pk).require_mfa is True
    assert client.get(url).status_code == 200
    # Turning it off never needs MFA; saving other settings while it is on is not blocked either.
    assert client.patch(url, {"name": "Acme Ltd"}, format="json").status_code == 200


def test_portal_settings_form_refuses_require_mfa_without_mfa(personas):
    from django.test import Client

    from apps.teams.models import Organisation

    client = Client()
    client.force_login(personas.owner)
    response = client.post("/org/settings/", {"section": "settings", "name": "Acme", "require_mfa": "on"})
    assert response.status_code == 200
    assert "two-factor" in response.content.decode().lower()
    assert response.context["settings_form"].errors.get("require_mfa")
    assert Organisation.objects.get(pk=personas.org.pk).require_mfa is False
    _enrol_totp(personas.owner)
    response = client.post("/org/settings/", {"section": "settings", "name": "Acme", "require_mfa": "on"})
    assert response.status_code == 302
    assert Organisation.objects.get(pk=personas.org.pk).require_mfa is True


# -- project grants: no enumeration, no strangers attached without consent -------------------------------
def _grants_url(personas) -> str:
    return f"/api/v1/organisations/{personas.org.pk}/projects/{personas.project.pk}/grants/"


def _shape(response) -> tuple[int, list[str], dict]:
    body = response.json()
    stable = {k: v for k, v in body.items() if k not in ("invitation", "email", "expires_at")}
    return response.status_code, sorted(body), stable


def test_granting_an_outsider_answers_the_same_whether_or_not_the_account_exists(
    personas, django_user_model, django_capture_on_commit_callbacks
):
    from django.core import mail

    from apps.teams.models import Invitation

    staff = django_user_model.objects.create_user(email="root@vmcloud.test", password="x" * 20, is_staff=True)
    client = client_for(personas.admin)
    shapes = []
    for email in (personas.outsider.email, "nobody-here@example.test", staff.email):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(_grants_url(personas), {"email": email, "access": "write"}, format="json")
        assert response.status_code == 202, response.content
        assert response.json()["email"] == email
        shapes.append(_shape(response))
    # Same status, same fields, same values apart from the address and the invitation's own id and dates.
    assert shapes[0] == shapes[1] == shapes[2]
    assert "user_id" not in response.json()
    # Nobody was attached: each gets an invitation to accept.
    for email in (personas.outsider.email, staff.email):
        user = django_user_model.objects.get(email=email)
        assert not user.has_perm("teams.write_resources", personas.project)
    assert Invitation.objects.filter(project=personas.project, status="pending").count() == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [personas.outsider.email, "nobody-here@example.test", staff.email]
    )


def test_an_outsider_gets_project_access_only_by_accepting(personas, django_capture_on_commit_callbacks):
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(personas.admin).post(
            _grants_url(personas), {"email": personas.outsider.email, "access": "read"}, format="json"
        )
    assert response.status_code == 202
    assert response.json()["access"] == "read"
    outsider_api = client_for(personas.outsider)
    project_url = f"/api/v1/organisations/{personas.org.pk}/projects/{personas.project.pk}/"
    assert outsider_api.get(project_url).status_code == 404
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/org/invitations/" in line)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert outsider_api.post("/api/v1/invitations/accept/", {"token": token}).status_code == 200
    assert outsider_api.get(project_url).status_code == 200
    grants = client_for(personas.admin).get(_grants_url(personas)).json()
    assert [(g["email"], g["access"]) for g in grants] == [(personas.outsider.email, "read")]


def test_a_member_or_an_existing_grantee_is_granted_at_once(personas, django_user_model):
    client = client_for(personas.admin)
    response = client.post(_grants_url(personas), {"email": personas.viewer.email, "access": "write"}, format="json")
    assert response.status_code == 201
    assert response.json() == {"user_id": personas.viewer.pk, "email": personas.viewer.email, "access": "write"}
    assert personas.viewer.has_perm("teams.write_resources", personas.project)


def test_a_second_grant_to_a_pending_outsider_is_the_same_conflict_either_way(personas):
    client = client_for(personas.admin)
    answers = []
    for email in (personas.outsider.email, "ghost@example.test"):
        assert client.post(_grants_url(personas), {"email": email, "access": "read"}, format="json").status_code == 202
        again = client.post(_grants_url(personas), {"email": email, "access": "write"}, format="json")
        answers.append((again.status_code, again.json()["error"]["code"]))
    assert answers == [(409, "invitation_pending"), (409, "invitation_pending")]


def test_portal_grant_form_invites_outsiders_without_revealing_accounts(personas):
    from django.test import Client

    from apps.teams.models import Invitation

    client = Client()
    client.force_login(personas.owner)
    url = f"/org/projects/{personas.project.pk}/"
    pages = []
    for email in (personas.outsider.email, "nobody-else@example.test"):
        response = client.post(url, {"action": "grant", "email": email, "access": "write"}, follow=True)
        assert response.status_code == 200
        pages.append([str(m) for m in response.context["messages"]])
    assert pages[0] == [m.replace("nobody-else@example.test", personas.outsider.email) for m in pages[1]]
    assert "invitation" in pages[0][0].lower()
    assert not personas.outsider.has_perm("teams.write_resources", personas.project)
    assert Invitation.objects.filter(project=personas.project).count() == 2
