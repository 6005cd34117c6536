"""The SSO audit findings of issue 10, each replayed against the pysaml2 IdP through the real HTTP flow.

Account takeover through a self-claimed domain, "SSO required" locking out its
own SSO logins, logout (signed messages, the IdP's SLO endpoint, SP-initiated
logout), certificate rollover, and a malformed SAMLResponse.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock
from urllib.parse import parse_qs, urlparse

import pytest
import urllib3
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from apps.core.errors import ValidationFailed
from apps.core.models import AuditEvent
from apps.sso import saml, services, tasks
from apps.sso.models import SamlDomain
from apps.teams.choices import Role
from apps.teams.models import Membership
from apps.teams.services import membership_create, organisation_create
from tests.conftest import PASSWORD
from tests.factories import UserFactory
from tests.sso.conftest import HOST
from tests.sso.idp import IDP_SLO_URL, PySaml2IdP, verify_query_signature

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture(autouse=True)
def _fresh_counters():
    from django.core.cache import cache

    cache.delete_pattern("*")


def _verified(email: str, **kwargs):
    user = UserFactory(email=email, **kwargs)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def _logged_in_email(client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).email if user_id else None


# -- 1. Account takeover through a self-claimed domain --------------------------------------------------------


def test_mallory_cannot_claim_hotmail_and_her_idp_cannot_open_the_victims_account(sso, idp_keys):
    victim = _verified("victim@hotmail.co.uk", password=PASSWORD)
    victim_org = organisation_create(name="Victim Ltd", owner=victim, actor=victim)
    mallory = _verified("mallory@hotmail.co.uk", password=PASSWORD)
    evil = organisation_create(name="Mallory Ltd", owner=mallory, actor=mallory)
    rogue = PySaml2IdP(*idp_keys["other"], sp_metadata=[])
    client = Client()
    client.force_login(mallory)
    settings_url = reverse("sso:settings", kwargs={"org_slug": evil.slug})
    saved = client.post(
        settings_url,
        {"idp_metadata_xml": rogue.metadata_xml(), "attr_email": "mail", "default_role": Role.ADMIN, "enabled": "on"},
        HTTP_HOST=HOST,
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    # She adds the domain of her own address: refused, whatever her address proves.
    page = client.post(
        reverse("sso:domain_add", kwargs={"org_slug": evil.slug}), {"domain": "hotmail.co.uk"}, follow=True
    )
    assert "Public email providers cannot be routed" in page.content.decode()
    assert not SamlDomain.objects.filter(domain="hotmail.co.uk").exists()

    # Her IdP asserts the victim's address anyway, at her connection's login.
    connection = evil.saml_connection
    sp_xml = Client().get(reverse("saml_metadata", args=[connection.slug]), HTTP_HOST=HOST).content.decode()
    rogue.sp_metadata = [sp_xml]
    attacker = Client()
    start = attacker.post(reverse("saml_login", args=[connection.slug]), HTTP_HOST=HOST)
    request_id, acs, relay = rogue.read_authn_request(start["Location"])
    answer = attacker.post(
        acs,
        {
            "SAMLResponse": rogue.response(
                email="victim@hotmail.co.uk",
                in_response_to=request_id,
                destination=acs,
                audience=f"http://{HOST}" + reverse("saml_metadata", args=[connection.slug]),
            ),
            "RelayState": relay,
        },
        HTTP_HOST=HOST,
    )
    finish = attacker.get(answer["Location"], HTTP_HOST=HOST)
    assert finish.status_code == 401
    assert _logged_in_email(attacker) is None
    assert not victim.socialaccount_set.exists()
    assert not Membership.objects.filter(organisation=evil, user=victim).exists()
    assert Membership.objects.filter(organisation=victim_org, user=victim).count() == 1


def test_a_dns_verified_domain_still_never_opens_an_account_outside_the_organisation(sso):
    # Even a domain the organisation truly controls does not hand it the
    # accounts of people who never joined it.
    victim = _verified("cfo@acme.test", password=PASSWORD)
    response = sso.sso_login(victim.email)
    assert response.status_code == 403
    assert _logged_in_email(sso.client) is None
    assert not victim.socialaccount_set.exists()


def test_domain_is_verified_by_its_dns_txt_record_from_the_portal(sso, dns_zone):
    client = Client()
    client.force_login(sso.owner)
    add = client.post(
        reverse("sso:domain_add", kwargs={"org_slug": sso.org.slug}), {"domain": "acme-labs.test"}, follow=True
    )
    row = SamlDomain.objects.get(domain="acme-labs.test")
    body = add.content.decode()
    assert row.verified_at is None
    assert row.txt_name == "_vmcloud-sso.acme-labs.test"
    assert row.txt_name in body and row.txt_value in body and "Verify now" in body
    verify_url = reverse("sso:domain_verify", kwargs={"org_slug": sso.org.slug, "domain_id": row.pk})

    missing = client.post(verify_url, follow=True)
    assert "No TXT record" in missing.content.decode()
    dns_zone.records[row.txt_name] = ["vmcloud-sso-verification=someone-elses-token"]
    assert "No TXT record" in client.post(verify_url, follow=True).content.decode()
    dns_zone.fail = True
    assert "DNS could not be queried" in client.post(verify_url, follow=True).content.decode()
    row.refresh_from_db()
    assert row.verified_at is None
    assert "_vmcloud-sso.acme-labs.test" in dns_zone.queries

    dns_zone.fail = False
    dns_zone.records[row.txt_name] = ["v=spf1 -all", row.txt_value]
    done = client.post(verify_url, follow=True)
    assert "is verified" in done.content.decode()
    row.refresh_from_db()
    assert row.verified_at is not None and row.verification_method == "dns"
    event = AuditEvent.objects.get(action="sso.domain.verify", target_id=str(row.pk))
    assert event.actor_user_id == sso.owner.pk and event.changes["method"] == "dns"


def test_a_contested_domain_goes_to_staff_who_verify_it_in_the_back_office(sso, dns_zone):
    boss = _verified("boss@globex.test")
    globex = organisation_create(name="Globex", owner=boss, actor=boss)
    connection = services.saml_connection_save(organisation=globex, actor=boss, data={})
    first = services.saml_domain_add(connection=connection, domain="initech.test", actor=boss)
    second_owner = _verified("boss@initech.test")
    initech = organisation_create(name="Initech", owner=second_owner, actor=second_owner)
    second_connection = services.saml_connection_save(organisation=initech, actor=second_owner, data={})
    second = services.saml_domain_add(connection=second_connection, domain="initech.test", actor=second_owner)
    assert (first.staff_review, second.staff_review) == (False, True)
    # The second claimant cannot settle it by DNS, even with the record in place.
    dns_zone.records[second.txt_name] = [second.txt_value]
    client = Client()
    client.force_login(second_owner)
    page = client.post(
        reverse("sso:domain_verify", kwargs={"org_slug": initech.slug, "domain_id": second.pk}), follow=True
    )
    assert "our staff will review" in page.content.decode()

    staff = UserFactory(email="ops@vmcloud.test", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(staff)
    changelist = reverse("admin:sso_samldomain_changelist")
    admin.post(changelist, {"action": "verify_domains", "_selected_action": [second.pk]})
    second.refresh_from_db()
    assert second.verified_at is not None and second.verification_method == "staff"
    assert AuditEvent.objects.filter(
        action="sso.domain.verify", target_id=str(second.pk), actor_user=staff, actor_kind="staff"
    ).exists()
    # Only one organisation ever holds it: the first claim can no longer be verified.
    dns_zone.records[first.txt_name] = [first.txt_value]
    admin.post(changelist, {"action": "verify_by_dns", "_selected_action": [first.pk]})
    first.refresh_from_db()
    assert first.verified_at is None


def test_linking_an_existing_account_takes_its_owner_logged_in_and_tells_them(sso, settings):
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = True
    dev = _verified("dev@acme.test", password=PASSWORD)
    refused = sso.sso_login(dev.email)
    assert refused.status_code == 403 and "Log in with your password" in refused.content.decode()

    sso.client.post(reverse("account_login"), {"login": dev.email, "password": PASSWORD}, HTTP_HOST=HOST)
    assert _logged_in_email(sso.client) == dev.email
    page = sso.client.get(reverse("sso_account_connections"), HTTP_HOST=HOST)
    assert "Connect single sign-on" in page.content.decode() and "Acme" in page.content.decode()
    mail.outbox.clear()
    start = sso.client.post(reverse("saml_login", args=[sso.connection.slug]), {"process": "connect"}, HTTP_HOST=HOST)
    request_id, acs, relay = sso.idp.read_authn_request(start["Location"])
    sso.post_response(
        sso.idp.response(email=dev.email, in_response_to=request_id, destination=acs, audience=sso.sp_entity_id),
        relay,
    )
    assert dev.socialaccount_set.filter(provider=f"saml-{sso.connection.slug}").exists()
    assert [m.to for m in mail.outbox] == [[dev.email]]
    # From now on the SSO login opens it.
    sso.client.logout()
    sso.sso_login(dev.email)
    assert _logged_in_email(sso.client) == dev.email


def test_connecting_the_sso_identity_of_another_address_is_refused(sso):
    dev = _verified("dev@acme.test", password=PASSWORD)
    sso.client.force_login(dev)
    start = sso.client.post(reverse("saml_login", args=[sso.connection.slug]), {"process": "connect"}, HTTP_HOST=HOST)
    request_id, acs, relay = sso.idp.read_authn_request(start["Location"])
    response = sso.post_response(
        sso.idp.response(email="ceo@acme.test", in_response_to=request_id, destination=acs, audience=sso.sp_entity_id),
        relay,
    )
    assert response.status_code == 403
    assert not dev.socialaccount_set.exists()


def test_sso_required_never_applies_to_accounts_of_other_organisations(sso):
    services.saml_connection_save(organisation=sso.org, actor=sso.owner, data={"sso_required": True})
    contractor = _verified("contractor@acme.test", password=PASSWORD)
    globex = organisation_create(name="Globex", owner=contractor, actor=contractor)
    assert Membership.objects.filter(organisation=globex, user=contractor).exists()
    client = Client()
    response = client.post(reverse("account_login"), {"login": contractor.email, "password": PASSWORD})
    assert response.status_code == 302
    assert _logged_in_email(client) == contractor.email


def test_sso_required_blocks_new_domain_addresses_for_members_only(sso, settings):
    settings.ACCOUNT_MAX_EMAIL_ADDRESSES = 3
    services.saml_connection_save(organisation=sso.org, actor=sso.owner, data={"sso_required": True})
    outsider = _verified("contractor@globex.test", password=PASSWORD)
    organisation_create(name="Globex", owner=outsider, actor=outsider)
    member = _verified("dev@initech.test", password=PASSWORD)
    membership_create(organisation=sso.org, user=member, role=Role.MEMBER, actor=sso.owner)
    client = Client()
    client.force_login(outsider)
    client.post(reverse("account_email"), {"action_add": "", "email": "contractor@acme.test"})
    assert EmailAddress.objects.filter(user=outsider, email="contractor@acme.test").exists()
    client.force_login(member)
    refused = client.post(reverse("account_email"), {"action_add": "", "email": "dev@acme.test"})
    assert "signs in with single sign-on" in refused.content.decode()
    assert not EmailAddress.objects.filter(user=member, email="dev@acme.test").exists()


# -- 2. "SSO required" must not lock out the SSO logins themselves ----------------------------------------------


def test_sso_login_works_while_sso_is_required(sso):
    services.saml_connection_save(organisation=sso.org, actor=sso.owner, data={"sso_required": True})
    # The owner, an existing password account and a member: signed in by SSO...
    response = sso.sso_login(sso.owner.email)
    assert response.status_code == 302, response.content.decode()[:1500]
    assert _logged_in_email(sso.client) == sso.owner.email
    # ...but no longer by password.
    client = Client()
    sso.owner.set_password(PASSWORD)
    sso.owner.save()
    refused = client.post(reverse("account_login"), {"login": sso.owner.email, "password": PASSWORD})
    assert refused.status_code == 403 and _logged_in_email(client) is None
    # A newcomer of the domain is created just in time.
    sso.client.logout()
    sso.sso_login("newcomer@acme.test")
    assert _logged_in_email(sso.client) == "newcomer@acme.test"
    assert Membership.objects.get(organisation=sso.org, user__email="newcomer@acme.test").role == Role.MEMBER


# -- 3. Logout --------------------------------------------------------------------------------------------------


def _member_logged_in_by_sso(sso) -> object:
    member = _verified("grace@acme.test")
    membership_create(organisation=sso.org, user=member, role=Role.MEMBER, actor=sso.owner)
    sso.sso_login(member.email)
    assert _logged_in_email(sso.client) == member.email
    return member


def test_unsigned_logout_request_is_refused(sso):
    _member_logged_in_by_sso(sso)
    location = sso.idp.logout_request(
        destination=sso.sls_url, sp_entity_id=sso.sp_entity_id, name_id="grace@acme.test", sign=False
    )
    response = sso.client.get(location.replace(f"http://{HOST}", ""), HTTP_HOST=HOST)
    assert response.status_code == 400
    assert "refused" in response.content.decode()
    assert _logged_in_email(sso.client) == "grace@acme.test"


def test_signed_logout_request_logs_out_and_answers_the_idp(sso, idp_keys):
    member = _member_logged_in_by_sso(sso)
    location = sso.idp.logout_request(destination=sso.sls_url, sp_entity_id=sso.sp_entity_id, name_id=member.email)
    response = sso.client.get(location.replace(f"http://{HOST}", ""), HTTP_HOST=HOST)
    assert response.status_code == 302, response.content.decode()[:1000]
    assert response["Location"].startswith(IDP_SLO_URL + "?")
    assert "SAMLResponse" in parse_qs(urlparse(response["Location"]).query)
    verify_query_signature(response["Location"], idp_keys["sp"][1])  # our LogoutResponse is signed
    assert _logged_in_email(sso.client) is None
    assert AuditEvent.objects.filter(action="sso.logout", actor_user=member, changes__initiated_by="idp").exists()


def test_logout_request_without_an_idp_slo_endpoint_is_a_clear_400(sso):
    _member_logged_in_by_sso(sso)
    type(sso.connection).objects.filter(pk=sso.connection.pk).update(idp_slo_url="")
    location = sso.idp.logout_request(destination=sso.sls_url, sp_entity_id=sso.sp_entity_id, name_id="grace@acme.test")
    response = sso.client.get(location.replace(f"http://{HOST}", ""), HTTP_HOST=HOST)
    assert response.status_code == 400
    assert sso.client.get(reverse("saml_sls", args=[sso.connection.slug]), HTTP_HOST=HOST).status_code == 400


def test_portal_logout_also_logs_out_at_the_idp(sso, idp_keys):
    member = _member_logged_in_by_sso(sso)
    response = sso.client.post(reverse("account_logout"), HTTP_HOST=HOST)
    assert response.status_code == 302
    assert response["Location"].startswith(IDP_SLO_URL + "?")
    assert _logged_in_email(sso.client) is None
    request_id, name_id, destination = sso.idp.read_logout_request(response["Location"], idp_keys["sp"][1])
    assert (name_id, destination) == (member.email, IDP_SLO_URL)
    # The IdP answers; a LogoutResponse to another request, or unsigned, is refused.
    forged = sso.idp.logout_response(in_response_to="_not-ours", destination=sso.sls_url, sp_entity_id=sso.sp_entity_id)
    assert sso.client.get(forged.replace(f"http://{HOST}", ""), HTTP_HOST=HOST).status_code == 400
    unsigned = sso.idp.logout_response(
        in_response_to=request_id, destination=sso.sls_url, sp_entity_id=sso.sp_entity_id, sign=False
    )
    assert sso.client.get(unsigned.replace(f"http://{HOST}", ""), HTTP_HOST=HOST).status_code == 400
    answer = sso.idp.logout_response(in_response_to=request_id, destination=sso.sls_url, sp_entity_id=sso.sp_entity_id)
    done = sso.client.get(answer.replace(f"http://{HOST}", ""), HTTP_HOST=HOST)
    assert done.status_code == 302 and not done["Location"].startswith(IDP_SLO_URL)


def test_password_sessions_log_out_locally_only(sso):
    dev = _verified("dev@globex.test", password=PASSWORD)
    client = Client()
    client.post(reverse("account_login"), {"login": dev.email, "password": PASSWORD})
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302 and not response["Location"].startswith("https://idp.")


# -- 4. Certificate rollover ------------------------------------------------------------------------------------


class _MetadataServer:
    """Serves the IdP's current metadata on loopback, as an IdP's metadata URL would."""

    def __init__(self) -> None:
        self.xml = ""
        self.redirect_to = ""
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if outer.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", outer.redirect_to)
                    self.end_headers()
                    return
                body = outer.xml.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/samlmetadata+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/metadata"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def metadata_server():
    server = _MetadataServer()
    yield server
    server.close()


def test_certificate_rollover_through_refresh(sso, idp_keys, metadata_server, settings):
    settings.SSO_METADATA_PRIVATE_ADDRESSES = True  # the test IdP serves its metadata on loopback
    sp_metadata = sso.idp.sp_metadata
    metadata_server.xml = sso.idp.metadata_xml()
    services.saml_connection_save(
        organisation=sso.org,
        actor=sso.owner,
        data={"idp_metadata_xml": "", "idp_metadata_url": metadata_server.url},
    )
    new_idp = PySaml2IdP(*idp_keys["next"], sp_metadata=sp_metadata)
    # The IdP announces its next certificate, then signs with it.
    metadata_server.xml = PySaml2IdP(
        *idp_keys["good"], sp_metadata=[], extra_certs=(idp_keys["next"][1],)
    ).metadata_xml()
    assert sso.sso_login("a@acme.test", idp=new_idp).status_code == 401  # not known yet

    client = Client()
    client.force_login(sso.owner)
    page = client.post(reverse("sso:metadata_refresh", kwargs={"org_slug": sso.org.slug}), follow=True)
    assert "metadata was read again" in page.content.decode()
    event = AuditEvent.objects.get(action="sso.connection.metadata", actor_user=sso.owner)
    assert len(event.changes["idp_x509_cert_next"][1]) == 64  # the new certificate's SHA-256 fingerprint
    sso.client.logout()
    assert sso.sso_login("b@acme.test", idp=new_idp).status_code == 302
    sso.client.logout()
    assert sso.sso_login("c@acme.test").status_code == 302  # both during the rollover

    # The old certificate leaves the metadata: the daily task picks it up and
    # keeps the old one for the grace period only.
    metadata_server.xml = new_idp.metadata_xml()
    assert settings.CELERY_BEAT_SCHEDULE["sso-refresh-metadata"] == {
        "task": "sso.refresh_metadata",
        "schedule": 24 * 60.0 * 60,
    }
    tasks.refresh_metadata()
    sso.connection.refresh_from_db()
    assert sso.connection.idp_x509_cert_previous and sso.connection.idp_x509_cert_previous_until
    assert AuditEvent.objects.filter(action="sso.connection.metadata", actor_kind="system").exists()
    sso.client.logout()
    assert sso.sso_login("d@acme.test").status_code == 302  # old key, within the grace period
    type(sso.connection).objects.filter(pk=sso.connection.pk).update(idp_x509_cert_previous_until="2000-01-01T00:00Z")
    sso.client.logout()
    assert sso.sso_login("e@acme.test").status_code == 401
    sso.client.logout()
    assert sso.sso_login("f@acme.test", idp=new_idp).status_code == 302


def test_staff_refresh_metadata_from_the_back_office(sso):
    staff = UserFactory(email="ops@vmcloud.test", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(staff)
    type(sso.connection).objects.filter(pk=sso.connection.pk).update(idp_slo_url="")
    response = admin.post(
        reverse("admin:sso_samlconnection_changelist"),
        {"action": "refresh_metadata", "_selected_action": [sso.connection.pk]},
    )
    assert response.status_code == 302
    sso.connection.refresh_from_db()
    assert sso.connection.idp_slo_url == IDP_SLO_URL and sso.connection.metadata_refreshed_at is not None
    assert AuditEvent.objects.filter(action="sso.connection.metadata", actor_user=staff).exists()


# -- 5. Malformed SAMLResponse ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        "PHNhbWw+PC9ub3QtY2xvc2Vk",  # "<saml></not-closed": not XML
        "not base64 at all!!",
        "PD94bWwgdmVyc2lvbj0iMS4wIj8+",  # an XML declaration and nothing else
    ],
)
def test_malformed_saml_response_is_a_400_with_the_error_page(sso, payload):
    _request_id, _acs, relay = sso.start_login("grace@acme.test")
    response = sso.post_response(payload, relay)
    assert response.status_code == 400
    assert "Single sign-on failed" in response.content.decode()
    assert _logged_in_email(sso.client) is None


# -- 6. The docs page says what the code does -------------------------------------------------------------------


def test_a_response_signed_only_at_the_response_level_is_refused_as_the_docs_say(sso, caplog):
    from pathlib import Path

    from apps.sso import choices

    request_id, acs, relay = sso.start_login("grace@acme.test")
    response = sso.post_response(
        sso.idp.response(
            email="grace@acme.test",
            in_response_to=request_id,
            destination=acs,
            audience=sso.sp_entity_id,
            sign_assertion=False,
            sign_response=True,
        ),
        relay,
    )
    assert response.status_code == 401 and _logged_in_email(sso.client) is None
    doc = Path("apps/docs/content/single-sign-on.md").read_text()
    assert "signed only at the Response level (assertion unsigned) is **refused**" in doc
    assert "or the whole response)" not in doc
    assert f"`{choices.DNS_TXT_PREFIX}.<domain>`" in doc and f"`{choices.DNS_TXT_VALUE_PREFIX}<token>`" in doc
    assert "unsigned or\n  wrongly signed request is refused" in doc
    assert "**Refresh metadata**" in doc and "**every day**" in doc


def test_the_migration_takes_back_self_claimed_verifications_and_keeps_staffs(sso):
    import importlib

    from django.apps import apps as registry

    from apps.core.services import audit_record

    migration = importlib.import_module("apps.sso.migrations.0002_domain_verification_logout_rollover")
    staff = UserFactory(email="ops@vmcloud.test", is_staff=True)
    self_claimed = SamlDomain.objects.create(
        connection=sso.connection, domain="acme-old.test", verified_at="2026-01-01"
    )
    by_staff = SamlDomain.objects.create(connection=sso.connection, domain="acme-staff.test", verified_at="2026-01-01")
    audit_record(actor=staff, actor_kind="staff", action="sso.domain.verify", target=by_staff)
    tokens = set(SamlDomain.objects.values_list("verification_token", flat=True))
    migration.forward(registry, None)
    self_claimed.refresh_from_db()
    by_staff.refresh_from_db()
    assert self_claimed.verified_at is None
    assert by_staff.verified_at is not None and by_staff.verification_method == "staff"
    assert not tokens & set(SamlDomain.objects.values_list("verification_token", flat=True))


def test_back_office_pages_show_the_verification_and_rollover_state(sso):
    staff = UserFactory(email="ops@vmcloud.test", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(staff)
    domain = sso.connection.domains.get()
    connection_page = admin.get(reverse("admin:sso_samlconnection_change", args=[sso.connection.pk]))
    assert connection_page.status_code == 200
    assert "IdP single logout URL" in connection_page.content.decode()
    domain_page = admin.get(reverse("admin:sso_samldomain_change", args=[domain.pk]))
    assert domain_page.status_code == 200 and domain.verification_token in domain_page.content.decode()
    listing = admin.get(reverse("admin:sso_samldomain_changelist"))
    assert "Check the DNS TXT record" in listing.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/metadata",  # loopback: the platform's own services
        "http://169.254.169.254/latest/meta-data/",  # a cloud's instance metadata service
        "http://10.0.0.5:8006/api2/json",  # a private network (Proxmox)
        "http://[::1]/metadata",
        "http://localhost/metadata",  # a name that resolves to loopback
        "ftp://idp.example.com/metadata",
        "file:///etc/passwd",
    ],
)
def test_metadata_url_to_a_private_address_or_other_scheme_is_refused_without_a_request(sso, url, settings):
    settings.SSO_METADATA_PRIVATE_ADDRESSES = False
    with mock.patch("urllib3.HTTPConnectionPool.urlopen") as urlopen, pytest.raises(ValidationFailed) as refused:
        services.saml_connection_save(
            organisation=sso.org, actor=sso.owner, data={"idp_metadata_xml": "", "idp_metadata_url": url}
        )
    urlopen.assert_not_called()
    assert list(refused.value.fields) == ["idp_metadata_url"]
    message = refused.value.fields["idp_metadata_url"][0]
    assert "private or reserved address" in message or "must start with https://" in message, message


def test_metadata_url_that_redirects_is_refused(sso, metadata_server, settings):
    settings.SSO_METADATA_PRIVATE_ADDRESSES = True  # the test IdP is on loopback
    metadata_server.redirect_to = "http://169.254.169.254/latest/meta-data/"
    with pytest.raises(saml.MetadataError, match="redirects"):
        saml.fetch_idp_metadata(metadata_server.url)


def test_metadata_url_on_a_public_address_is_fetched_from_the_address_checked(sso, metadata_server, settings):
    """The name is resolved once and the connection goes to that address (no second DNS answer)."""
    settings.SSO_METADATA_PRIVATE_ADDRESSES = False
    metadata_server.xml = sso.idp.metadata_xml()
    port = metadata_server.httpd.server_address[1]
    public = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]
    with (
        mock.patch("socket.getaddrinfo", return_value=public) as resolve,
        mock.patch("urllib3.HTTPConnectionPool.urlopen", autospec=True) as urlopen,
    ):
        urlopen.side_effect = lambda pool, method, target, **kw: (_ for _ in ()).throw(
            urllib3.exceptions.NewConnectionError(pool, f"would connect to {pool.host}")
        )
        with pytest.raises(saml.MetadataError, match=r"93\.184\.215\.14"):
            saml.fetch_idp_metadata(f"http://idp.example.com:{port}/metadata")
    resolve.assert_called_once()
    assert urlopen.call_args.kwargs["headers"]["Host"] == f"idp.example.com:{port}"
