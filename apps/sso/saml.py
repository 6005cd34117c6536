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

from typing import Any

from allauth.socialaccount.models import SocialApp
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from apps.sso.choices import NAMEID_FORMAT_EMAIL
from apps.sso.models import SamlConnection

PROVIDER_ID = "saml"


class MetadataError(Exception):
    """The IdP metadata could not be read or has no usable IdP descriptor."""


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
    idp: dict[str, Any] = {"entity_id": connection.idp_entity_id}
    if connection.idp_sso_url and connection.idp_x509_cert:
        idp.update({"sso_url": connection.idp_sso_url, "x509cert": connection.idp_x509_cert})
    elif connection.idp_metadata_url:
        # allauth fetches and caches it (4 h) with python3-saml's parser.
        idp["metadata_url"] = connection.idp_metadata_url
    return {
        # Never listed on the public login page (it would disclose customers):
        # users reach it through email-domain discovery.
        "hidden": True,
        "idp": idp,
        "attribute_mapping": attribute_mapping(connection),
        # Emails in the organisation's verified domains are trusted as verified:
        # allauth then links an existing account with that address
        # (SOCIALACCOUNT_EMAIL_AUTHENTICATION) instead of refusing the login.
        "verified_email": verified_domains,
        "advanced": {
            # python3-saml strict mode validates Destination/Recipient against
            # our ACS URL, Audience against our entity id, NotBefore/NotOnOrAfter
            # of the conditions and of the subject confirmation, InResponseTo.
            "strict": True,
            "want_assertion_signed": True,
            "want_message_signed": False,  # many IdPs sign the assertion only
            "want_attribute_statement": True,
            "want_name_id": True,
            "reject_deprecated_algorithm": True,  # no SHA-1
            "signature_algorithm": OneLogin_Saml2_Constants.RSA_SHA256,
            "digest_algorithm": OneLogin_Saml2_Constants.SHA256,
            "name_id_format": NAMEID_FORMAT_EMAIL,
            "reject_idp_initiated_sso": not connection.allow_idp_initiated,
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


def parse_idp_metadata(xml: str, entity_id: str | None = None) -> dict[str, str]:
    """Entity id, SSO URL (HTTP-Redirect binding) and signing certificate out of IdP metadata XML."""
    try:
        data = OneLogin_Saml2_IdPMetadataParser.parse(xml, entity_id=entity_id or None)
    except Exception as exc:  # the parser raises bare Exceptions and lxml errors
        raise MetadataError(str(exc)) from exc
    idp = data.get("idp") or {}
    cert = idp.get("x509cert") or next(iter((idp.get("x509certMulti") or {}).get("signing", [])), "")
    result = {
        "entity_id": idp.get("entityId", ""),
        "sso_url": (idp.get("singleSignOnService") or {}).get("url", ""),
        "x509_cert": cert,
    }
    if not all(result.values()):
        raise MetadataError("The metadata has no IdP entity id, SSO URL (HTTP-Redirect) and signing certificate.")
    return result


def fetch_idp_metadata(url: str, entity_id: str | None = None, timeout: int = 10) -> dict[str, str]:
    try:
        xml = OneLogin_Saml2_IdPMetadataParser.get_metadata(url, timeout=timeout)
    except Exception as exc:
        raise MetadataError(str(exc)) from exc
    return parse_idp_metadata(xml.decode() if isinstance(xml, bytes) else xml, entity_id)
