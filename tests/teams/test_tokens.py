"""API tokens: format, hashing at rest, authentication, expiry, revocation, scope and project limits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.models import AuditEvent
from apps.teams.choices import Role, TokenScope
from apps.teams.models import ApiToken
from apps.teams.rules import tokens
from apps.teams.services import api_token_create, api_token_revoke, project_create
from tests.factories import ApiTokenFactory

pytestmark = pytest.mark.django_db


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_token_has_scannable_prefix_and_is_stored_hashed(personas):
    row, secret = api_token_create(
        user=personas.member, organisation=personas.org, name="ci", scope=TokenScope.READ_WRITE, expires_at=None
    )
    assert tokens.TOKEN_RE.match(secret)
    assert secret.startswith(row.prefix + "_")
    assert row.prefix.startswith("vmc_pat_")
    stored = ApiToken.objects.get(pk=row.pk)
    assert stored.secret_hash == tokens.hash_token(secret)
    assert secret not in stored.secret_hash
    # The secret never reaches the audit trail.
    for event in AuditEvent.objects.filter(organisation_id=personas.org.pk):
        assert secret not in str(event.changes)


def test_checksum_rejects_a_mistyped_token():
    token = tokens.generate_api_token().token
    assert tokens.parse_api_token(token) is not None
    typo = token[:-1] + ("a" if token[-1] != "a" else "b")
    assert tokens.parse_api_token(typo) is None


def test_bearer_token_authenticates_and_records_last_use(personas):
    token = ApiTokenFactory(user=personas.member, organisation=personas.org)
    response = bearer(token.plaintext).get(f"/api/v1/organisations/{personas.org.pk}/", REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 200, response.content
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_ip == "198.51.100.4"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"expires_at": timezone.now() - dt.timedelta(seconds=1)}, "expired"),
        ({"revoked_at": timezone.now()}, "revoked"),
    ],
)
def test_expired_or_revoked_token_is_401_with_error_body(personas, change, message):
    token = ApiTokenFactory(user=personas.member, organisation=personas.org)
    ApiToken.objects.filter(pk=token.pk).update(**change)
    response = bearer(token.plaintext).get("/api/v1/organisations/")
    assert response.status_code == 401
    body = response.json()["error"]
    assert body["code"] == "authentication_failed"
    assert message in body["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_wrong_secret_with_a_real_prefix_is_401(personas):
    token = ApiTokenFactory(user=personas.member, organisation=personas.org)
    forged = tokens.generate_api_token().token.replace(tokens.generate_api_token().prefix, token.prefix)
    head = forged[:-6]
    forged = head + tokens._checksum(head)
    assert bearer(forged).get("/api/v1/organisations/").status_code == 401


def test_revoking_through_the_service_is_audited(personas):
    token = ApiTokenFactory(user=personas.member, organisation=personas.org)
    api_token_revoke(token=token, actor=personas.member)
    assert bearer(token.plaintext).get("/api/v1/organisations/").status_code == 401
    assert AuditEvent.objects.filter(action="api_token.revoke", organisation_id=personas.org.pk).exists()


def test_read_only_token_cannot_write_even_for_an_owner(personas):
    token = ApiTokenFactory(user=personas.owner, organisation=personas.org, scope=TokenScope.READ_ONLY)
    client = bearer(token.plaintext)
    assert client.get(f"/api/v1/organisations/{personas.org.pk}/members/").status_code == 200
    response = client.post(f"/api/v1/organisations/{personas.org.pk}/projects/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "token_read_only"


def test_token_never_exceeds_its_holders_role(personas):
    token = ApiTokenFactory(user=personas.viewer, organisation=personas.org, scope=TokenScope.READ_WRITE)
    response = bearer(token.plaintext).post(
        f"/api/v1/organisations/{personas.org.pk}/projects/", {"name": "x"}, format="json"
    )
    assert response.status_code == 403


def test_token_follows_a_demotion_at_once(personas):
    from apps.teams.models import Membership
    from apps.teams.services import membership_update_role

    token = ApiTokenFactory(user=personas.admin, organisation=personas.org)
    client = bearer(token.plaintext)
    assert client.get(f"/api/v1/organisations/{personas.org.pk}/audit-events/").status_code == 200
    membership_update_role(
        membership=Membership.objects.get(organisation=personas.org, user=personas.admin),
        role=Role.VIEWER,
        actor=personas.owner,
    )
    assert client.get(f"/api/v1/organisations/{personas.org.pk}/audit-events/").status_code == 403


def test_token_sees_only_its_own_organisation(personas):
    from apps.teams.services import membership_create

    membership_create(organisation=personas.other_org, user=personas.member, role=Role.ADMIN, actor=None)
    token = ApiTokenFactory(user=personas.member, organisation=personas.org)
    client = bearer(token.plaintext)
    ids = [o["id"] for o in client.get("/api/v1/organisations/").json()["results"]]
    assert ids == [personas.org.pk]
    assert client.get(f"/api/v1/organisations/{personas.other_org.pk}/").status_code == 404


def test_project_limited_token_sees_only_its_projects(personas):
    staging = project_create(organisation=personas.org, name="Staging", actor=personas.owner)
    token = ApiTokenFactory(user=personas.admin, organisation=personas.org, projects=[staging])
    client = bearer(token.plaintext)
    listed = [p["id"] for p in client.get(f"/api/v1/organisations/{personas.org.pk}/projects/").json()["results"]]
    assert listed == [staging.pk]
    assert client.get(f"/api/v1/organisations/{personas.org.pk}/projects/{personas.project.pk}/").status_code == 404
    # Organisation-wide rights are gone too: members and audit need an unlimited token.
    assert client.get(f"/api/v1/organisations/{personas.org.pk}/members/").status_code == 403


def test_tokens_cannot_manage_tokens(personas):
    token = ApiTokenFactory(user=personas.owner, organisation=personas.org)
    response = bearer(token.plaintext).post(
        "/api/v1/tokens/", {"organisation": personas.org.pk, "name": "x", "scope": "read_write"}, format="json"
    )
    assert response.status_code == 403


def test_create_token_over_the_api_returns_the_secret_once(personas):
    client = APIClient()
    client.force_authenticate(personas.member)
    response = client.post(
        "/api/v1/tokens/",
        {"organisation": personas.org.pk, "name": "deploy", "scope": "read_write", "projects": [personas.project.pk]},
        format="json",
    )
    assert response.status_code == 201, response.content
    secret = response.json()["token"]
    listed = client.get("/api/v1/tokens/").json()["results"]
    assert listed[0]["prefix"] == response.json()["prefix"]
    assert "token" not in listed[0]
    assert bearer(secret).get(f"/api/v1/organisations/{personas.org.pk}/projects/").status_code == 200


def test_outsider_cannot_create_a_token_for_another_organisation(personas):
    client = APIClient()
    client.force_authenticate(personas.outsider)
    response = client.post(
        "/api/v1/tokens/", {"organisation": personas.org.pk, "name": "x", "scope": "read_only"}, format="json"
    )
    assert response.status_code == 404


def test_token_of_a_suspended_user_is_refused_with_the_reason(personas):
    from apps.accounts.models import User

    token = ApiTokenFactory(user=personas.member, organisation=personas.org)
    User.objects.filter(pk=personas.member.pk).update(suspended_at=timezone.now(), suspension_reason="Chargeback")
    response = bearer(token.plaintext).get("/api/v1/organisations/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "account_suspended"
    assert "Chargeback" in response.json()["error"]["message"]
