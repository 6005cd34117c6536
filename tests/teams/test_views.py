"""Portal pages of teams: access by role, org switcher, tokens shown once, audit CSV, suspension page."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.teams.models import ApiToken, Invitation
from apps.teams.services import organisation_suspend

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", ["/org/settings/", "/org/members/", "/org/projects/", "/tokens/", "/audit/"])
def test_owner_reaches_every_page(personas, path):
    response = login(personas.owner).get(path)
    assert response.status_code == 200, path
    assert b"Acme" in response.content


def test_anonymous_is_sent_to_login(personas):
    response = Client().get("/org/members/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_viewer_cannot_read_the_audit_log_or_invite(personas):
    client = login(personas.viewer)
    assert client.get("/audit/").status_code == 403
    response = client.post("/org/invitations/", {"email": "x@example.com", "role": "member"})
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_switcher_changes_the_current_organisation(personas):
    from apps.teams.choices import Role
    from apps.teams.services import membership_create

    membership_create(organisation=personas.other_org, user=personas.member, role=Role.VIEWER, actor=None)
    client = login(personas.member)
    assert b"Acme" in client.get("/org/settings/").content
    response = client.post("/org/switch/", {"organisation": personas.other_org.pk, "next": "/org/settings/"})
    assert response.status_code == 302
    page = client.get("/org/settings/")
    assert b"<h1>Globex</h1>" in page.content


def test_switching_to_a_foreign_organisation_is_404(personas):
    response = login(personas.member).post("/org/switch/", {"organisation": personas.other_org.pk})
    assert response.status_code == 404


def test_invite_from_the_members_page(personas):
    response = login(personas.admin).post("/org/invitations/", {"email": "new@example.com", "role": "viewer"})
    assert response.status_code == 302
    assert Invitation.objects.get(organisation=personas.org).email == "new@example.com"


def test_token_secret_is_shown_once(personas):
    client = login(personas.member)
    response = client.post("/tokens/", {"name": "ci", "scope": "read_only", "expires_in": "30"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=personas.member)
    body = response.content.decode()
    secret = body.split('id="token-secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith(token.prefix + "_")
    assert secret not in client.get("/tokens/").content.decode()


def test_audit_csv_export_from_the_portal(personas):
    response = login(personas.owner).get("/audit/export.csv?action=organisation.create")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    assert text.splitlines()[0].startswith("time,actor_kind,actor")
    assert "organisation.create" in text
    assert "project.create" not in text


def test_suspended_organisation_shows_the_reason(personas):
    organisation_suspend(organisation=personas.org, reason="Unpaid invoice INV-7", actor=None)
    response = login(personas.member).get("/org/projects/")
    assert response.status_code == 403
    assert b"Unpaid invoice INV-7" in response.content


def test_invitation_link_page_accept_requires_the_invited_account(personas, django_capture_on_commit_callbacks):
    from apps.teams.choices import Role
    from apps.teams.services import invitation_create
    from tests.factories import UserFactory

    _inv, token = invitation_create(
        organisation=personas.org, email="jo@example.com", role=Role.MEMBER, actor=personas.owner
    )
    page = Client().get(f"/org/invitations/{token}/")
    assert page.status_code == 200
    assert b"Sign up" in page.content
    wrong = login(personas.outsider).post(f"/org/invitations/{token}/", {"answer": "accept"})
    assert b"sign in with that address" in wrong.content
    jo = UserFactory(email="jo@example.com")
    response = login(jo).post(f"/org/invitations/{token}/", {"answer": "accept"})
    assert response.status_code == 302
    assert personas.org.memberships.filter(user=jo, role=Role.MEMBER).exists()


def test_staff_can_suspend_from_the_admin(personas, staff_user):
    from apps.core.models import AuditEvent

    client = login(staff_user)
    response = client.post(
        "/admin/teams/organisation/",
        {"action": "suspend", "_selected_action": [personas.org.pk], "apply": "1", "reason": "Fraud check"},
    )
    assert response.status_code == 302
    personas.org.refresh_from_db()
    assert personas.org.suspension_reason == "Fraud check"
    event = AuditEvent.objects.get(action="organisation.suspend")
    assert event.actor_kind == "staff"
    change = client.get(f"/admin/teams/organisation/{personas.org.pk}/change/")
    assert change.status_code == 200
    assert b"secret_hash" not in change.content
