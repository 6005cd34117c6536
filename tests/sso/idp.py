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
from urllib.parse import parse_qs, unquote, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import AUTHN_PASSWORD, NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.samlp import STATUS_SUCCESS
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

IDP_ENTITY_ID = "https://idp.acme.test/saml/metadata"
IDP_SSO_URL = "https://idp.acme.test/saml/sso"
IDP_SLO_URL = "https://idp.acme.test/saml/slo"
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
    slo: bool = True  # publish a single logout endpoint (HTTP-Redirect)
    extra_certs: tuple[Path, ...] = ()  # further signing certificates in the metadata (a rollover)

    def server(self) -> Server:
        endpoints: dict[str, list[tuple[str, str]]] = {"single_sign_on_service": [(IDP_SSO_URL, BINDING_HTTP_REDIRECT)]}
        if self.slo:
            endpoints["single_logout_service"] = [(IDP_SLO_URL, BINDING_HTTP_REDIRECT)]
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
                        "endpoints": endpoints,
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
        xml = create_metadata_string(None, config=server.config, valid=24).decode()
        for cert_path in self.extra_certs:
            # A second signing KeyDescriptor, as an IdP announces its next certificate.
            body = "".join(line for line in cert_path.read_text().splitlines() if "CERTIFICATE" not in line)
            descriptor = (
                '<ns0:KeyDescriptor xmlns:ns0="urn:oasis:names:tc:SAML:2.0:metadata" use="signing">'
                '<ns1:KeyInfo xmlns:ns1="http://www.w3.org/2000/09/xmldsig#"><ns1:X509Data>'
                f"<ns1:X509Certificate>{body}</ns1:X509Certificate></ns1:X509Data></ns1:KeyInfo></ns0:KeyDescriptor>"
            )
            marker = xml.index(">", xml.index("IDPSSODescriptor")) + 1
            xml = xml[:marker] + descriptor + xml[marker:]
        return xml

    def logout_request(self, *, destination: str, sp_entity_id: str, name_id: str, sign: bool = True) -> str:
        """The browser's redirect to our SLS carrying an IdP-initiated LogoutRequest (query signed or not)."""
        server = self.server()
        _req_id, request = server.create_logout_request(
            destination=destination,
            issuer_entity_id=sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=name_id),
            sign=False,
        )
        info = server.apply_binding(
            BINDING_HTTP_REDIRECT, str(request), destination, relay_state="", sign=sign, sigalg=SIG_RSA_SHA256
        )
        return dict(info["headers"])["Location"]

    def read_logout_request(self, location: str, sp_cert_path: Path) -> tuple[str, str, str]:
        """(request id, NameID, Destination) of our SP's LogoutRequest, once its query signature is verified."""
        verify_query_signature(location, sp_cert_path)
        query = parse_qs(urlparse(location).query)
        request = self.server().parse_logout_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
        message = request.message
        return message.id, message.name_id.text, message.destination

    def logout_response(self, *, in_response_to: str, destination: str, sp_entity_id: str, sign: bool = True) -> str:
        """The browser's redirect back to our SLS with the IdP's LogoutResponse."""
        server = self.server()
        response = server._status_response(
            samlp.LogoutResponse,
            server._issuer(),
            success_status_factory(),
            sign=False,
            in_response_to=in_response_to,
            destination=destination,
        )
        info = server.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(response),
            destination,
            relay_state="",
            response=True,
            sign=sign,
            sigalg=SIG_RSA_SHA256,
        )
        return dict(info["headers"])["Location"]

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


def verify_query_signature(location: str, cert_path: Path) -> None:
    """Check an HTTP-Redirect binding signature (SAML bindings 3.4.4.1) with the signer's certificate; raises if bad."""
    from cryptography.hazmat.primitives.asymmetric import padding

    raw = urlparse(location).query
    parts = dict(part.split("=", 1) for part in raw.split("&"))
    kind = "SAMLRequest" if "SAMLRequest" in parts else "SAMLResponse"
    signed = "&".join(f"{k}={parts[k]}" for k in (kind, "RelayState", "SigAlg") if k in parts)
    assert unquote(parts["SigAlg"]) == SIG_RSA_SHA256
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    cert.public_key().verify(  # type: ignore[union-attr, call-arg]
        base64.b64decode(unquote(parts["Signature"])), signed.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def success_status_factory() -> samlp.Status:
    return samlp.Status(status_code=samlp.StatusCode(value=STATUS_SUCCESS))


__all__ = ["BINDING_HTTP_POST", "IDP_ENTITY_ID", "IDP_SLO_URL", "IDP_SSO_URL", "PySaml2IdP", "make_key_pair"]
