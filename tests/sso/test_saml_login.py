"""SAML login against a real pysaml2 IdP: what is accepted, and every forgery that must not be."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from apps.core.models import AuditEvent
from apps.sso import services
from apps.sso.models import SamlAssertionUse
from apps.teams.choices import Role
from apps.teams.models import Membership

pytestmark = pytest.mark.django_db

User = get_user_model()


def _logged_in_email(client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).email if user_id else None


def test_signed_assertion_creates_the_member_with_the_default_role(sso):
    request_id, acs, relay = sso.start_login("grace@acme.test")
    assert acs == sso.acs_url
    response = sso.post_response(
        sso.idp.response(
            email="grace@acme.test",
            in_response_to=request_id,
            destination=acs,
            audience=sso.sp_entity_id,
            first_name="Grace",
            last_name="Hopper",
            uid="ghopper",
        ),
        relay,
    )
    assert response.status_code == 302, response.content[:800]
    assert _logged_in_email(sso.client) == "grace@acme.test"
    user = User.objects.get(email="grace@acme.test")
    membership = Membership.objects.get(organisation=sso.org, user=user)
    assert membership.role == Role.MEMBER
    assert user.full_name == "Grace Hopper"
    assert user.socialaccount_set.get().uid == "ghopper"
    assert AuditEvent.objects.filter(action="sso.login", organisation_id=sso.org.pk, actor_user=user).exists()
    assert AuditEvent.objects.filter(action="membership.create", organisation_id=sso.org.pk).exists()


def test_default_role_is_the_connections(sso, caplog):
    services.saml_connection_save(organisation=sso.org, actor=sso.owner, data={"default_role": Role.VIEWER})
    request_id, acs, relay = sso.start_login("linus@acme.test")
    sso.post_response(
        sso.idp.response(
            email="linus@acme.test", in_response_to=request_id, destination=acs, audience=sso.sp_entity_id
        ),
        relay,
    )
    assert Membership.objects.get(organisation=sso.org, user__email="linus@acme.test").role == Role.VIEWER


def _rejected(sso, response, caplog, reason: str) -> None:
    """allauth's authentication error page (401), nobody logged in or created, for the expected reason."""
    assert response.status_code == 401
    assert _logged_in_email(sso.client) is None
    assert not User.objects.filter(email="mallory@acme.test").exists()
    assert reason.lower() in caplog.text.lower(), caplog.text


def test_unsigned_assertion_is_rejected(sso, caplog):
    request_id, acs, relay = sso.start_login("mallory@acme.test")
    saml_response = sso.idp.response(
        email="mallory@acme.test",
        in_response_to=request_id,
        destination=acs,
        audience=sso.sp_entity_id,
        sign_assertion=False,
        sign_response=False,
    )
    _rejected(sso, sso.post_response(saml_response, relay), caplog, "is not signed")


def test_assertion_signed_with_another_key_is_rejected(sso, caplog):
    request_id, acs, relay = sso.start_login("mallory@acme.test")
    saml_response = sso.rogue_idp.response(
        email="mallory@acme.test", in_response_to=request_id, destination=acs, audience=sso.sp_entity_id
    )
    _rejected(sso, sso.post_response(saml_response, relay), caplog, "Signature validation failed")


def test_assertion_for_another_audience_is_rejected(sso, caplog):
    request_id, acs, relay = sso.start_login("mallory@acme.test")
    saml_response = sso.idp.response(
        email="mallory@acme.test",
        in_response_to=request_id,
        destination=acs,
        audience=sso.sp_entity_id.replace("http://localhost/", "https://rogue-sp.test/"),
    )
    _rejected(sso, sso.post_response(saml_response, relay), caplog, "is not a valid audience")


def test_assertion_for_another_recipient_is_rejected(sso, caplog):
    request_id, _acs, relay = sso.start_login("mallory@acme.test")
    saml_response = sso.idp.response(
        email="mallory@acme.test",
        in_response_to=request_id,
        destination="https://rogue-sp.test/acs/",
        audience=sso.sp_entity_id,
    )
    _rejected(sso, sso.post_response(saml_response, relay), caplog, "instead of https://rogue-sp.test/acs/")


def test_expired_assertion_is_rejected(sso, monkeypatch, caplog):
    request_id, acs, relay = sso.start_login("mallory@acme.test")
    saml_response = sso.idp.response(
        email="mallory@acme.test", in_response_to=request_id, destination=acs, audience=sso.sp_entity_id
    )
    # The IdP gives 5 minutes; the response reaches us 10 minutes later.
    later = OneLogin_Saml2_Utils.now() + 600
    monkeypatch.setattr(OneLogin_Saml2_Utils, "now", staticmethod(lambda: later))
    _rejected(sso, sso.post_response(saml_response, relay), caplog, "expired")


def test_replayed_assertion_is_rejected_even_where_idp_initiated_login_is_allowed(sso, caplog):
    # IdP-initiated responses carry no InResponseTo, so no login state protects
    # them: the consumed-assertion table is the only defence.
    services.saml_connection_save(organisation=sso.org, actor=sso.owner, data={"allow_idp_initiated": True})
    saml_response = sso.idp.response(
        email="mallory@acme.test", in_response_to=None, destination=sso.acs_url, audience=sso.sp_entity_id
    )
    sso.post_response(saml_response)
    assert _logged_in_email(sso.client) == "mallory@acme.test"
    assert SamlAssertionUse.objects.filter(connection=sso.connection).count() == 1

    sso.client.logout()
    User.objects.filter(email="mallory@acme.test").delete()
    _rejected(sso, sso.post_response(saml_response), caplog, "saml_assertion_replayed")


def test_replayed_sp_initiated_assertion_is_rejected(sso, caplog):
    request_id, acs, relay = sso.start_login("mallory@acme.test")
    saml_response = sso.idp.response(
        email="mallory@acme.test", in_response_to=request_id, destination=acs, audience=sso.sp_entity_id
    )
    sso.post_response(saml_response, relay)
    assert _logged_in_email(sso.client) == "mallory@acme.test"
    sso.client.logout()
    User.objects.filter(email="mallory@acme.test").delete()
    _rejected(sso, sso.post_response(saml_response, relay), caplog, "saml_assertion_replayed")


def test_idp_initiated_login_is_rejected_by_default(sso, caplog):
    saml_response = sso.idp.response(
        email="mallory@acme.test", in_response_to=None, destination=sso.acs_url, audience=sso.sp_entity_id
    )
    _rejected(sso, sso.post_response(saml_response), caplog, "IdP initiated SSO rejected")


def test_email_outside_the_verified_domains_is_rejected(sso, caplog):
    request_id, acs, relay = sso.start_login("someone@acme.test")
    saml_response = sso.idp.response(
        email="mallory@globex.test", in_response_to=request_id, destination=acs, audience=sso.sp_entity_id
    )
    response = sso.post_response(saml_response, relay)
    assert _logged_in_email(sso.client) is None
    assert not User.objects.filter(email="mallory@globex.test").exists()
    assert response.status_code == 401
    assert "outside the organisation's verified domains" in caplog.text


def test_expired_assertion_ids_are_purged(sso):
    now = dt.datetime.now(dt.UTC)
    services.saml_assertion_consume(connection=sso.connection, assertion_id="old", expires_at=now - dt.timedelta(1))
    services.saml_assertion_consume(connection=sso.connection, assertion_id="new", expires_at=now + dt.timedelta(1))
    assert services.saml_assertions_purge() == 1
    assert list(SamlAssertionUse.objects.values_list("assertion_id", flat=True)) == ["new"]


def test_sso_login_signs_into_an_existing_member_and_tells_them(sso):
    from allauth.account.models import EmailAddress
    from django.core import mail

    from apps.teams.services import membership_create
    from tests.factories import UserFactory

    existing = UserFactory(email="dev@acme.test")
    EmailAddress.objects.create(user=existing, email=existing.email, verified=True, primary=True)
    membership_create(organisation=sso.org, user=existing, role=Role.VIEWER, actor=sso.owner)
    mail.outbox.clear()
    request_id, acs, relay = sso.start_login(existing.email)
    sso.post_response(
        sso.idp.response(email=existing.email, in_response_to=request_id, destination=acs, audience=sso.sp_entity_id),
        relay,
    )
    assert _logged_in_email(sso.client) == existing.email
    assert User.objects.filter(email=existing.email).count() == 1
    assert Membership.objects.get(organisation=sso.org, user=existing).role == Role.VIEWER
    assert existing.socialaccount_set.filter(provider=f"saml-{sso.connection.slug}").exists()
    assert [m.to for m in mail.outbox] == [[existing.email]]


def test_sso_login_never_opens_an_existing_account_outside_the_organisation(sso):
    from allauth.account.models import EmailAddress

    from tests.factories import UserFactory

    existing = UserFactory(email="dev@acme.test")
    EmailAddress.objects.create(user=existing, email=existing.email, verified=True, primary=True)
    request_id, acs, relay = sso.start_login(existing.email)
    response = sso.post_response(
        sso.idp.response(email=existing.email, in_response_to=request_id, destination=acs, audience=sso.sp_entity_id),
        relay,
    )
    assert response.status_code == 403
    assert "log in with your password" in response.content.decode().lower()
    assert _logged_in_email(sso.client) is None
    assert not existing.socialaccount_set.exists()
    assert not Membership.objects.filter(organisation=sso.org, user=existing).exists()
