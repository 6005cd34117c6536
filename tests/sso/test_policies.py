"""Sign-in policies that need organisations: sign-up's personal organisation, SSO discovery and
"SSO required", domain ownership, organisation-required MFA."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail
from django.test import Client
from django.urls import reverse

from apps.core.errors import Conflict, ValidationFailed
from apps.sso import services
from apps.teams.choices import Role
from apps.teams.models import Membership, Organisation
from apps.teams.services import membership_create
from tests.conftest import PASSWORD
from tests.factories import UserFactory
from tests.sso.conftest import HOST

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    from django.core.cache import cache

    cache.delete_pattern("*")
    yield


def _verified(email: str, **kwargs):
    user = UserFactory(email=email, **kwargs)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def test_sign_up_sends_a_verification_and_creates_the_personal_organisation(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "new@startup.test", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert len(mail.outbox) == 1
    org = Organisation.objects.get(memberships__user__email="new@startup.test")
    assert org.is_personal
    assert Membership.objects.get(organisation=org).role == Role.OWNER


def test_continue_with_sso_for_an_unknown_domain_falls_back_to_password(sso):
    response = sso.client.post(reverse("sso:discover"), {"email": "x@nowhere.test"}, HTTP_HOST=HOST)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")


def test_sso_required_turns_off_password_login_and_sign_up_for_the_domain(sso):
    dev = _verified("dev@acme.test", password=PASSWORD)
    membership_create(organisation=sso.org, user=dev, role=Role.MEMBER, actor=sso.owner)
    services.saml_connection_save(organisation=sso.org, actor=sso.owner, data={"sso_required": True})
    client = Client()
    response = client.post(reverse("account_login"), {"login": "dev@acme.test", "password": PASSWORD})
    assert response.status_code == 403
    assert "requires its members to log in through the company" in response.content.decode()
    assert "_auth_user_id" not in client.session
    signup = client.post(
        reverse("account_signup"),
        {"email": "new@acme.test", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"},
    )
    assert signup.status_code == 200
    assert "single sign-on" in signup.content.decode()
    # Other domains are unaffected.
    _verified("dev@globex.test", password=PASSWORD)
    assert client.post(reverse("account_login"), {"login": "dev@globex.test", "password": PASSWORD}).status_code == 302


def test_domain_claims_compete_only_through_staff_and_public_domains_are_refused(sso, dns_zone):
    other_owner = _verified("boss@globex.test")
    from apps.teams.services import organisation_create

    other = organisation_create(name="Globex", owner=other_owner, actor=other_owner)
    connection = services.saml_connection_save(organisation=other, actor=other_owner, data={})
    # Acme verified acme.test: Globex's claim is accepted but only staff can settle it.
    contested = services.saml_domain_add(connection=connection, domain="ACME.test", actor=other_owner)
    assert (contested.verified_at, contested.staff_review) == (None, True)
    dns_zone.records[contested.txt_name] = [contested.txt_value]
    with pytest.raises(ValidationFailed):
        services.saml_domain_verify_dns(domain=contested, actor=other_owner)
    with pytest.raises(Conflict):
        services.saml_domain_add(connection=connection, domain="acme.test", actor=other_owner)
    for public in ("gmail.com", "hotmail.co.uk", "yahoo.co.uk", "qq.com"):
        with pytest.raises(ValidationFailed):
            services.saml_domain_add(connection=connection, domain=public, actor=other_owner)
    # Owning an address in the domain proves nothing: it waits for its DNS record.
    own = services.saml_domain_add(connection=connection, domain="globex.test", actor=other_owner)
    assert own.verified_at is None
    contested.refresh_from_db()
    assert contested.verified_at is None


def test_org_admin_configures_sso_in_the_portal_and_outsiders_get_404(sso):
    client = Client()
    client.force_login(sso.owner)
    page = client.get(reverse("sso:settings", kwargs={"org_slug": sso.org.slug}), HTTP_HOST=HOST)
    assert page.status_code == 200
    body = page.content.decode()
    assert sso.sp_entity_id in body and sso.acs_url in body
    response = client.post(
        reverse("sso:settings", kwargs={"org_slug": sso.org.slug}),
        {
            "idp_entity_id": sso.connection.idp_entity_id,
            "idp_sso_url": sso.connection.idp_sso_url,
            "idp_x509_cert": sso.connection.idp_x509_cert,
            "attr_email": "urn:oid:0.9.2342.19200300.100.1.3",
            "default_role": Role.VIEWER,
            "enabled": "on",
            "sso_required": "on",
        },
        HTTP_HOST=HOST,
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    sso.connection.refresh_from_db()
    assert (sso.connection.default_role, sso.connection.sso_required) == (Role.VIEWER, True)
    owner_role_refused = client.post(
        reverse("sso:settings", kwargs={"org_slug": sso.org.slug}),
        {"attr_email": "mail", "default_role": Role.OWNER},
        HTTP_HOST=HOST,
    )
    assert owner_role_refused.status_code == 200
    outsider = _verified("eve@evil.test")
    client.force_login(outsider)
    assert client.get(reverse("sso:settings", kwargs={"org_slug": sso.org.slug})).status_code == 404
    viewer = _verified("viewer@acme.test")
    membership_create(organisation=sso.org, user=viewer, role=Role.VIEWER, actor=sso.owner)
    client.force_login(viewer)
    assert client.get(reverse("sso:settings", kwargs={"org_slug": sso.org.slug})).status_code in (403, 404)


def test_sp_metadata_is_published_per_organisation(sso):
    response = Client().get(reverse("saml_metadata", kwargs={"organization_slug": sso.connection.slug}), HTTP_HOST=HOST)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'entityID="{sso.sp_entity_id}"' in body
    assert sso.acs_url in body
    assert 'WantAssertionsSigned="true"' in body


@pytest.fixture
def mfa_org(db):
    from apps.teams.services import organisation_create

    owner = _verified("owner@secure.test", password=PASSWORD)
    org = organisation_create(name="Secure Co", owner=owner, actor=owner)
    Organisation.objects.filter(pk=org.pk).update(require_mfa=True)
    return owner


def test_members_of_an_mfa_requiring_org_are_sent_to_mfa_setup(mfa_org):
    client = Client()
    client.force_login(mfa_org)
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index")
    assert client.get(reverse("mfa_index")).status_code == 200
    api = client.get("/api/v1/catalogue/offers/")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "mfa_required"


def test_an_api_token_waits_for_its_holder_to_enrol_mfa(mfa_org):
    from apps.teams.choices import TokenScope
    from apps.teams.services import api_token_create

    organisation = Organisation.objects.get(memberships__user=mfa_org, require_mfa=True)
    _token, secret = api_token_create(
        user=mfa_org, organisation=organisation, name="ci", scope=TokenScope.READ_ONLY, expires_at=None
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    refused = Client().get("/api/v1/instances/", **auth)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "mfa_required"
    TOTP.activate(mfa_org, generate_totp_secret())
    assert Client().get("/api/v1/instances/", **auth).status_code == 200


def test_members_with_totp_pass_the_mfa_requirement(mfa_org):
    TOTP.activate(mfa_org, generate_totp_secret())
    assert Authenticator.objects.filter(user=mfa_org).exists()
    client = Client()
    client.force_login(mfa_org)
    assert client.get(reverse("portal:dashboard")).status_code == 200


def test_users_outside_mfa_requiring_orgs_are_not_redirected(verified_user_plain):
    client = Client()
    client.force_login(verified_user_plain)
    assert client.get(reverse("portal:dashboard")).status_code == 200


@pytest.fixture
def verified_user_plain(db):
    return _verified("plain@example.org", password=PASSWORD)
