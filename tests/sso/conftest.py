"""SSO fixtures: the Acme organisation with a SAML connection to a real pysaml2 IdP."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse

from apps.sso import services
from apps.sso.models import SamlConnection
from apps.teams.choices import Role
from apps.teams.models import Organisation
from apps.teams.services import organisation_create
from tests.factories import UserFactory
from tests.sso.dns_server import LoopbackDns
from tests.sso.idp import PySaml2IdP, make_key_pair

HOST = "localhost"  # python3-saml refuses single-label hosts such as "testserver"


@pytest.fixture(scope="session")
def idp_keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp("idp")
    return {
        "good": make_key_pair(directory, "acme-idp"),
        "other": make_key_pair(directory, "rogue-idp"),
        "next": make_key_pair(directory, "acme-idp-next"),
        "sp": make_key_pair(directory, "vmcloud-sp"),
    }


@pytest.fixture(scope="session")
def _dns_server():
    server = LoopbackDns()
    yield server
    server.close()


@pytest.fixture
def dns_zone(_dns_server, settings) -> LoopbackDns:
    """The loopback nameserver the platform asks (``SSO_DNS_*`` settings), with no records yet."""
    settings.SSO_DNS_NAMESERVERS = ["127.0.0.1"]
    settings.SSO_DNS_PORT = _dns_server.port
    settings.SSO_DNS_TIMEOUT = 2.0
    _dns_server.records.clear()
    _dns_server.queries.clear()
    _dns_server.fail = False
    return _dns_server


def verify_by_dns(dns_zone: LoopbackDns, connection: SamlConnection, domain: str, actor):
    """What an admin does: add the domain, publish the TXT record we ask for, press "Verify now"."""
    row = services.saml_domain_add(connection=connection, domain=domain, actor=actor)
    dns_zone.records[row.txt_name] = [row.txt_value]
    return services.saml_domain_verify_dns(domain=row, actor=actor)


@dataclass
class SsoWorld:
    org: Organisation
    owner: object
    connection: SamlConnection
    idp: PySaml2IdP
    rogue_idp: PySaml2IdP
    client: Client

    @property
    def sp_entity_id(self) -> str:
        return f"http://{HOST}" + reverse("saml_metadata", kwargs={"organization_slug": self.connection.slug})

    @property
    def sls_url(self) -> str:
        return f"http://{HOST}" + reverse("saml_sls", kwargs={"organization_slug": self.connection.slug})

    @property
    def acs_url(self) -> str:
        return f"http://{HOST}" + reverse("saml_acs", kwargs={"organization_slug": self.connection.slug})

    def start_login(self, email: str) -> tuple[str, str, str]:
        """'Continue with SSO' on the login page: returns (request id, ACS URL, RelayState)."""
        response = self.client.post(reverse("sso:discover"), {"email": email}, HTTP_HOST=HOST)
        assert response.status_code == 302, response.content[:500]
        assert response["Location"].startswith("https://idp.acme.test/saml/sso?")
        return self.idp.read_authn_request(response["Location"])

    def post_response(self, saml_response: str, relay_state: str = ""):
        """The browser POSTs the IdP's answer to the ACS URL, then follows allauth's redirect to finish."""
        data = {"SAMLResponse": saml_response}
        if relay_state:
            data["RelayState"] = relay_state
        response = self.client.post(self.acs_url, data, HTTP_HOST=HOST)
        assert response.status_code == 302
        return self.client.get(response["Location"], HTTP_HOST=HOST)

    def sso_login(self, email: str, idp: PySaml2IdP | None = None):
        """The whole SP-initiated login of ``email`` at the IdP, through the real HTTP endpoints."""
        request_id, acs, relay = self.start_login(email)
        return self.post_response(
            (idp or self.idp).response(
                email=email, in_response_to=request_id, destination=acs, audience=self.sp_entity_id
            ),
            relay,
        )


@pytest.fixture
def sso(db, idp_keys, dns_zone, settings) -> SsoWorld:
    # Our SP signs its logout messages with this pair, published in its metadata.
    settings.SSO_SP_PRIVATE_KEY_FILE, settings.SSO_SP_CERTIFICATE_FILE = map(str, idp_keys["sp"])
    owner = UserFactory(email="owner@acme.test")
    EmailAddress.objects.create(user=owner, email=owner.email, verified=True, primary=True)
    org = organisation_create(name="Acme", owner=owner, actor=owner)
    idp = PySaml2IdP(*idp_keys["good"], sp_metadata=[])
    connection = services.saml_connection_save(
        organisation=org,
        actor=owner,
        data={"idp_metadata_xml": idp.metadata_xml(), "enabled": True, "default_role": Role.MEMBER},
    )
    verify_by_dns(dns_zone, connection, "acme.test", owner)
    client = Client()
    sp_xml = client.get(
        reverse("saml_metadata", kwargs={"organization_slug": connection.slug}), HTTP_HOST=HOST
    ).content.decode()
    rogue_sp_xml = sp_xml.replace(f'entityID="http://{HOST}/', 'entityID="https://rogue-sp.test/')
    idp.sp_metadata = [sp_xml, rogue_sp_xml]
    rogue = PySaml2IdP(*idp_keys["other"], sp_metadata=[sp_xml])
    return SsoWorld(org=org, owner=owner, connection=connection, idp=idp, rogue_idp=rogue, client=client)
