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
def test_owner_reaches_every_page(world, path):
    response = login(world.owner).get(path)
    assert response.status_code == 200, path
    assert b"Acme" in response.content


def test_anonymous_is_sent_to_login(world):
    response = Client().get("/org/members/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_viewer_cannot_read_the_audit_log_or_invite(world):
    client = login(world.viewer)
    assert client.get("/audit/").status_code == 403
    response = client.post("/org/invitations/", {"email": "x@example.com", "role": "member"})
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_switcher_changes_the_current_organisation(world):
    from apps.teams.choices import Role
    from apps.teams.services import membership_create

    membership_create(organisation=world.other_org, user=world.member, role=Role.VIEWER, actor=None)
    client = login(world.member)
    assert b"Acme" in client.get("/org/settings/").content
    response = client.post("/org/switch/", {"organisation": world.other_org.pk, "next": "/org/settings/"})
    assert response.status_code == 302
    page = client.get("/org/settings/")
    assert b"<h1>Globex</h1>" in page.content


def test_switching_to_a_foreign_organisation_is_404(world):
    response = login(world.member).post("/org/switch/", {"organisation": world.other_org.pk})
    assert response.status_code == 404


def test_invite_from_the_members_page(world):
    response = login(world.admin).post("/org/invitations/", {"email": "new@example.com", "role": "viewer"})
    assert response.status_code == 302
    assert Invitation.objects.get(organisation=world.org).email == "new@example.com"


def test_token_secret_is_shown_once(world):
    client = login(world.member)
    response = client.post("/tokens/", {"name": "ci", "scope": "read_only", "expires_in": "30"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=world.member)
    body = response.content.decode()
    secret = body.split('id="token-secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith(token.prefix + "_")
    assert secret not in client.get("/tokens/").content.decode()


def test_audit_csv_export_from_the_portal(world):
    response = login(world.owner).get("/audit/export.csv?action=organisation.create")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    assert text.splitlines()[0].startswith("time,actor_kind,actor")
    assert "organisation.create" in text
    assert "project.create" not in text


def test_suspended_organisation_shows_the_reason(world):
    organisation_suspend(organisation=world.org, reason="Unpaid invoice INV-7", actor=None)
    response = login(world.member).get("/org/projects/")
    assert response.status_code == 403
    assert b"Unpaid invoice INV-7" in response.content


def test_invitation_link_page_accept_requires_the_invited_account(world, django_capture_on_commit_callbacks):
    from apps.teams.choices import Role
    from apps.teams.services import invitation_create
    from tests.factories import UserFactory

    _inv, token = invitation_create(organisation=world.org, email="jo@example.com", role=Role.MEMBER, actor=world.owner)
    page = Client().get(f"/org/invitations/{token}/")
    assert page.status_code == 200
    assert b"Sign up" in page.content
    wrong = login(world.outsider).post(f"/org/invitations/{token}/", {"answer": "accept"})
    assert b"sign in with that address" in wrong.content
    jo = UserFactory(email="jo@example.com")
    response = login(jo).post(f"/org/invitations/{token}/", {"answer": "accept"})
    assert response.status_code == 302
    assert world.org.memberships.filter(user=jo, role=Role.MEMBER).exists()


def test_staff_can_suspend_from_the_admin(world, staff_user):
    from apps.core.models import AuditEvent

    client = login(staff_user)
    response = client.post(
        "/admin/teams/organisation/",
        {"action": "suspend", "_selected_action": [world.org.pk], "apply": "1", "reason": "Fraud check"},
    )
    assert response.status_code == 302
    world.org.refresh_from_db()
    assert world.org.suspension_reason == "Fraud check"
    event = AuditEvent.objects.get(action="organisation.suspend")
    assert event.actor_kind == "staff"
    change = client.get(f"/admin/teams/organisation/{world.org.pk}/change/")
    assert change.status_code == 200
    assert b"secret_hash" not in change.content
