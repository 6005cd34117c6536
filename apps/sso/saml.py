"""The thin SAML client: turns a ``SamlConnection`` into allauth's SAML app settings, parses IdP metadata.

allauth's SAML provider (``allauth.socialaccount.providers.saml``) reads one
``SocialApp`` per IdP: ``provider="saml"``, ``client_id`` = the slug in the
URLs, and a ``settings`` dict with ``idp``, ``sp``, ``attribute_mapping`` and
``advanced`` keys (https://docs.allauth.org/en/latest/socialaccount/providers/saml.html).
``advanced`` is handed to python3-saml's security settings
(https://github.com/SAML-Toolkits/python3-saml#settings); its defaults do not
require signatures, so every key that matters is set explicitly here.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, TypedDict

from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.saml.utils import build_saml_config, prepare_django_request
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from apps.core.outbound import OutboundError, OutboundRefused, outbound_request
from apps.sso.choices import NAMEID_FORMAT_EMAIL
from apps.sso.models import SamlConnection

PROVIDER_ID = "saml"


class MetadataError(Exception):
    """The IdP metadata could not be read or has no usable IdP descriptor."""


class IdpMetadata(TypedDict):
    entity_id: str
    sso_url: str
    slo_url: str  # empty: the IdP has no HTTP-Redirect single logout endpoint
    certs: list[str]  # signing certificates, base64; more than one during a rollover


def sp_key_pair() -> tuple[str, str] | None:
    """The SP's (certificate, private key) PEMs from ``SSO_SP_CERTIFICATE_FILE`` / ``SSO_SP_PRIVATE_KEY_FILE``.

    With them our LogoutRequests and LogoutResponses are signed (SAML 2.0
    profiles, section 4.4.3.1: the requester "MUST authenticate itself"), and
    the SP metadata publishes the certificate for IdPs to check.
    """
    cert_file = settings.SSO_SP_CERTIFICATE_FILE
    key_file = settings.SSO_SP_PRIVATE_KEY_FILE
    if not (cert_file and key_file):
        return None
    return _read_pair(cert_file, key_file)


@cache
def _read_pair(cert_file: str, key_file: str) -> tuple[str, str]:
    return Path(cert_file).read_text(), Path(key_file).read_text()


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def attribute_mapping(connection: SamlConnection) -> dict[str, list[str]]:
    mapping = {
        "email": _names(connection.attr_email),
        "first_name": _names(connection.attr_first_name),
        "last_name": _names(connection.attr_last_name),
    }
    if _names(connection.attr_uid):
        mapping["uid"] = _names(connection.attr_uid)
    return {key: names for key, names in mapping.items() if names}


def provider_settings(connection: SamlConnection, verified_domains: list[str]) -> dict[str, Any]:
    """The ``SocialApp.settings`` allauth's SAML provider reads, for one connection."""
    # The metadata (URL or XML) is parsed by our services into the idp_* fields
    # (refreshed daily and on demand), so allauth never fetches it itself.
    idp: dict[str, Any] = {
        "entity_id": connection.idp_entity_id,
        "sso_url": connection.idp_sso_url,
        "x509cert": connection.idp_x509_cert,
    }
    if connection.idp_slo_url:
        idp["slo_url"] = connection.idp_slo_url
    key_pair = sp_key_pair()
    signing: dict[str, Any] = {}
    if key_pair is not None:
        signing = {
            "x509cert": key_pair[0],
            "private_key": key_pair[1],
            "logout_request_signed": True,
            "logout_response_signed": True,
        }
    return {
        # Never listed on the public login page (it would disclose customers):
        # users reach it through email-domain discovery.
        "hidden": True,
        "idp": idp,
        "attribute_mapping": attribute_mapping(connection),
        # Emails in the organisation's DNS- or staff-verified domains are
        # trusted as verified. allauth may then look up an existing account
        # with the address (SOCIALACCOUNT_EMAIL_AUTHENTICATION), but
        # PortalSocialAccountAdapter.authenticate_by_email only lets it sign in
        # to an account that is already a member of this organisation.
        "verified_email": verified_domains,
        "advanced": {
            # python3-saml strict mode validates Destination/Recipient against
            # our ACS URL, Audience against our entity id, NotBefore/NotOnOrAfter
            # of the conditions and of the subject confirmation, InResponseTo.
            "strict": True,
            "want_assertion_signed": True,
            # Logins: many IdPs sign the assertion only, and a Response signed
            # only at its top level is refused (the assertion must be signed).
            # Logout messages are required signed by build_auth(logout=True).
            "want_message_signed": False,
            "want_attribute_statement": True,
            "want_name_id": True,
            "reject_deprecated_algorithm": True,  # no SHA-1
            "signature_algorithm": OneLogin_Saml2_Constants.RSA_SHA256,
            "digest_algorithm": OneLogin_Saml2_Constants.SHA256,
            "name_id_format": NAMEID_FORMAT_EMAIL,
            "reject_idp_initiated_sso": not connection.allow_idp_initiated,
            **signing,
        },
    }


def social_app(connection: SamlConnection, verified_domains: list[str]) -> SocialApp:
    """An unsaved SocialApp carrying the connection: allauth never needs the row to exist."""
    app = SocialApp(
        provider=PROVIDER_ID,
        # provider_id namespaces SocialAccount.uid per organisation: two IdPs
        # may both assert uid "jdoe" for different people.
        provider_id=f"{PROVIDER_ID}-{connection.slug}",
        name=connection.organisation.name,
        client_id=connection.slug,
        settings=provider_settings(connection, verified_domains),
    )
    app.saml_connection = connection  # type: ignore[attr-defined]  # read by OrganisationSAMLProvider
    return app


def build_auth(request: HttpRequest, provider: Any, *, logout: bool = False) -> OneLogin_Saml2_Auth:
    """python3-saml's ``Auth`` for one connection: allauth's settings plus what allauth cannot express.

    * every accepted IdP signing certificate (``x509certMulti``), so a
      certificate rollover never breaks logins;
    * for logout messages (``logout=True``): ``wantMessagesSigned``, so an
      unsigned LogoutRequest or LogoutResponse is refused
      (https://github.com/SAML-Toolkits/python3-saml#settings).
    """
    config = build_saml_config(request, provider.app.settings, provider.app.client_id)
    connection = getattr(provider.app, "saml_connection", None)
    if connection is not None:
        certs = connection.signing_certificates()
        if len(certs) > 1:
            config["idp"]["x509certMulti"] = {"signing": certs, "encryption": []}
    if logout:
        config["security"]["wantMessagesSigned"] = True
    return OneLogin_Saml2_Auth(prepare_django_request(request), config)


def parse_idp_metadata(xml: str, entity_id: str | None = None) -> IdpMetadata:
    """Entity id, SSO and SLO URLs (HTTP-Redirect binding) and signing certificates out of IdP metadata XML."""
    try:
        data = OneLogin_Saml2_IdPMetadataParser.parse(xml, entity_id=entity_id or None)
    except Exception as exc:  # the parser raises bare Exceptions and lxml errors
        raise MetadataError(str(exc)) from exc
    idp = data.get("idp") or {}
    certs = [idp["x509cert"]] if idp.get("x509cert") else list((idp.get("x509certMulti") or {}).get("signing", []))
    result: IdpMetadata = {
        "entity_id": idp.get("entityId", ""),
        "sso_url": (idp.get("singleSignOnService") or {}).get("url", ""),
        "slo_url": (idp.get("singleLogoutService") or {}).get("url", ""),
        "certs": certs,
    }
    if not (result["entity_id"] and result["sso_url"] and result["certs"]):
        raise MetadataError("The metadata has no IdP entity id, SSO URL (HTTP-Redirect) and signing certificate.")
    return result


# The largest metadata document read; an IdP's metadata is a few kilobytes, even with several certificates.
METADATA_MAX_BYTES = 1024 * 1024


def metadata_download(url: str, *, timeout: float = 10) -> str:
    """The IdP metadata document at ``url``: http(s), public addresses only, no redirects, 1 MiB at most.

    The URL is typed by an organisation's admin and fetched by the platform
    (apps.core.outbound says why addresses are checked). ``SSO_METADATA_PRIVATE_ADDRESSES``
    lets an IdP on a private network through, for an on-premises deployment.
    """
    try:
        response = outbound_request(
            "GET",
            url,
            headers={"Accept": "application/samlmetadata+xml, */*"},
            timeout=timeout,
            max_bytes=METADATA_MAX_BYTES,
            allow_private=settings.SSO_METADATA_PRIVATE_ADDRESSES,
        )
    except OutboundRefused as exc:
        raise MetadataError(str(exc)) from exc
    except OutboundError as exc:
        if exc.kind == "ResponseTooLarge":
            raise MetadataError(_("The metadata document is larger than 1 MiB.")) from exc
        raise MetadataError(str(exc)) from exc
    if response.redirect:
        raise MetadataError(_("The metadata URL redirects elsewhere; give the final URL."))
    if response.status != 200:
        raise MetadataError(_("The metadata URL answered HTTP %(status)s.") % {"status": response.status})
    try:
        return response.body.decode()
    except UnicodeDecodeError as exc:
        raise MetadataError(_("The metadata document is not UTF-8 text.")) from exc


def fetch_idp_metadata(url: str, entity_id: str | None = None, timeout: int = 10) -> IdpMetadata:
    return parse_idp_metadata(metadata_download(url, timeout=timeout), entity_id)
