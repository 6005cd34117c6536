"""A real SAML identity provider for the tests: pysaml2's ``Server`` signing with xmlsec1.

It reads the AuthnRequest our SP sends (HTTP-Redirect binding), and answers
with a response built and signed by pysaml2 (RSA-SHA256 / SHA-256, attribute
names as OIDs with the URI name format), exactly as a production IdP would.
Nothing is hand-built: the tests only choose what the IdP signs and with
which key.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import AUTHN_PASSWORD, NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

IDP_ENTITY_ID = "https://idp.acme.test/saml/metadata"
IDP_SSO_URL = "https://idp.acme.test/saml/sso"
XMLSEC = "/usr/bin/xmlsec1"


def make_key_pair(directory: Path, name: str) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


@dataclass
class PySaml2IdP:
    key_path: Path
    cert_path: Path
    sp_metadata: list[str]

    def server(self) -> Server:
        config = IdPConfig()
        config.load(
            {
                "entityid": IDP_ENTITY_ID,
                "xmlsec_binary": XMLSEC,
                "key_file": str(self.key_path),
                "cert_file": str(self.cert_path),
                "metadata": {"inline": self.sp_metadata},
                "allow_unknown_attributes": True,
                "service": {
                    "idp": {
                        "name": "Acme test IdP",
                        "endpoints": {"single_sign_on_service": [(IDP_SSO_URL, BINDING_HTTP_REDIRECT)]},
                        "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                        "want_authn_requests_signed": False,
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": 5},
                                "name_form": NAME_FORMAT_URI,
                                "attribute_restrictions": None,
                            }
                        },
                    }
                },
            }
        )
        return Server(config=config)

    def metadata_xml(self) -> str:
        server = self.server()
        return create_metadata_string(None, config=server.config, valid=24).decode()

    def read_authn_request(self, location: str) -> tuple[str, str, str]:
        """(request id, ACS URL, RelayState) from the SP's redirect to our SSO URL."""
        query = parse_qs(urlparse(location).query)
        request = self.server().parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
        return request.message.id, request.message.assertion_consumer_service_url, query.get("RelayState", [""])[0]

    def response(
        self,
        *,
        email: str,
        in_response_to: str | None,
        destination: str,
        audience: str,
        sign_assertion: bool = True,
        sign_response: bool = False,
        first_name: str = "Ada",
        last_name: str = "Lovelace",
        uid: str | None = None,
    ) -> str:
        """A base64 SAMLResponse, as the browser would POST it to the ACS URL."""
        identity = {"mail": [email], "givenName": [first_name], "sn": [last_name]}
        if uid:
            identity["uid"] = [uid]
        response = self.server().create_authn_response(
            identity=identity,
            in_response_to=in_response_to,
            destination=destination,
            sp_entity_id=audience,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email),
            userid=email,
            authn={"class_ref": AUTHN_PASSWORD, "authn_auth": IDP_ENTITY_ID},
            sign_assertion=sign_assertion,
            sign_response=sign_response,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        return base64.b64encode(str(response).encode()).decode()


__all__ = ["BINDING_HTTP_POST", "IDP_ENTITY_ID", "IDP_SSO_URL", "PySaml2IdP", "make_key_pair"]
