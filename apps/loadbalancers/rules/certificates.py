"""An uploaded TLS certificate checked before a load balancer uses it, and the bundle HAProxy reads (no database).

The customer uploads three PEM texts: the certificate, its chain (intermediates, the
issuer of the certificate first, each next one the issuer of the one before; the root may
be left out) and the private key (RSA of at least 2048 bits, or EC on P-256, P-384 or
P-521; not encrypted). ``certificate_validate`` parses them with ``cryptography`` and
checks that the key is the certificate's, that each chain certificate signed the one
before it, and that none has expired; a ``fullchain.pem`` pasted as the certificate is
read as the certificate followed by its chain. Errors are one ``ValidationFailed`` whose
fields are ``certificate``, ``chain`` and ``private_key``. The result names the
certificate (SAN DNS names and addresses, the common name when there is no SAN), its
expiry, its SHA-256 fingerprint and the bundle HAProxy's ``crt`` wants: certificate,
chain, then the key (https://docs.haproxy.org/2.6/configuration.html#5.1-crt).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtensionOID, NameOID
from django.utils.translation import gettext as _

from apps.core.errors import ValidationFailed

MAX_PEM = 64 * 1024
MAX_CHAIN = 8
MIN_RSA_BITS = 2048
EC_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)


@dataclass(frozen=True)
class CheckedCertificate:
    """A certificate the load balancer can serve, and its bundle (which holds the private key: store it encrypted)."""

    names: tuple[str, ...]
    not_before: dt.datetime
    not_after: dt.datetime
    fingerprint_sha256: str
    subject: str
    issuer: str
    key_type: str
    bundle: str


def _certificates(text: str) -> list[x509.Certificate]:
    if "-----BEGIN CERTIFICATE-----" not in text:
        return []
    return x509.load_pem_x509_certificates(text.encode("ascii"))


def _parse_certificates(text: str, field: str, errors: dict[str, list[str]]) -> list[x509.Certificate]:
    if len(text) > MAX_PEM:
        errors.setdefault(field, []).append(_("At most 64 KiB of PEM text."))
        return []
    try:
        return _certificates(text)
    except (ValueError, UnicodeEncodeError):
        errors.setdefault(field, []).append(_("This is not PEM certificate text (-----BEGIN CERTIFICATE----- …)."))
        return []


def _key_problem(key: object) -> str | None:
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            return _("RSA keys must have at least %(bits)s bits.") % {"bits": MIN_RSA_BITS}
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, EC_CURVES):
            return _("EC keys must use the P-256, P-384 or P-521 curve.")
        return None
    return _("The private key must be RSA or EC (ECDSA).")


def _key_type(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return f"RSA {key.key_size}"
    return f"EC {key.curve.name}"


def _parse_key(text: str, errors: dict[str, list[str]]) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None:
    if not text.strip():
        errors.setdefault("private_key", []).append(_("The private key is required."))
        return None
    if len(text) > MAX_PEM:
        errors.setdefault("private_key", []).append(_("At most 64 KiB of PEM text."))
        return None
    try:
        key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
    except TypeError:
        errors.setdefault("private_key", []).append(
            _("The private key is encrypted: upload it without a passphrase (it is stored encrypted).")
        )
        return None
    except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm):
        errors.setdefault("private_key", []).append(_("This is not a PEM private key (-----BEGIN PRIVATE KEY----- …)."))
        return None
    problem = _key_problem(key)
    if problem:
        errors.setdefault("private_key", []).append(problem)
        return None
    return key  # type: ignore[return-value]  # _key_problem let only RSA and EC keys through


def _names(certificate: x509.Certificate) -> tuple[str, ...]:
    try:
        san = certificate.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        common = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return tuple(str(a.value) for a in common)
    if not isinstance(san, x509.SubjectAlternativeName):
        return ()
    dns = san.get_values_for_type(x509.DNSName)
    addresses = [str(a) for a in san.get_values_for_type(x509.IPAddress)]
    return tuple(dns + addresses)


def _signed_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _expiry_problems(certificates: list[x509.Certificate], now: dt.datetime) -> list[str]:
    return [
        _("%(subject)s expired on %(date)s.")
        % {"subject": c.subject.rfc4514_string() or _("The certificate"), "date": c.not_valid_after_utc.date()}
        for c in certificates
        if c.not_valid_after_utc <= now
    ]


def _public_bytes(key: object) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)  # type: ignore[attr-defined]


def certificate_validate(*, certificate: str, chain: str, private_key: str, now: dt.datetime) -> CheckedCertificate:
    """Check an uploaded certificate, chain and key (``now`` is timezone-aware); ``ValidationFailed`` says why not."""
    errors: dict[str, list[str]] = {}
    leaf_and_more = _parse_certificates(certificate, "certificate", errors)
    chain_certs = _parse_certificates(chain, "chain", errors)
    if not leaf_and_more and "certificate" not in errors:
        errors["certificate"] = [_("The certificate is required (PEM: -----BEGIN CERTIFICATE----- …).")]
    if chain.strip() and not chain_certs and "chain" not in errors:
        errors["chain"] = [_("This is not PEM certificate text (-----BEGIN CERTIFICATE----- …).")]
    key = _parse_key(private_key, errors)
    if not leaf_and_more:
        raise ValidationFailed(_("The certificate cannot be used."), fields=errors)

    leaf, extra = leaf_and_more[0], leaf_and_more[1:]
    chain_certs = [*extra, *chain_certs]  # a full chain pasted as the certificate
    if len(chain_certs) > MAX_CHAIN:
        errors.setdefault("chain", []).append(_("At most %(max)s chain certificates.") % {"max": MAX_CHAIN})
    if key is not None and _public_bytes(key.public_key()) != _public_bytes(leaf.public_key()):
        errors.setdefault("private_key", []).append(_("This private key does not belong to the certificate."))
    expired = _expiry_problems([leaf], now)
    if expired:
        errors.setdefault("certificate", []).extend(expired)
    child = leaf
    for position, issuer in enumerate(chain_certs, start=1):
        if not _signed_by(child, issuer):
            errors.setdefault("chain", []).append(
                _(
                    "Chain certificate %(position)s (%(subject)s) did not sign the certificate before it: "
                    "put the certificate's issuer first, then each issuer's issuer."
                )
                % {"position": position, "subject": issuer.subject.rfc4514_string()}
            )
            break
        child = issuer
    expired = _expiry_problems(chain_certs, now)
    if expired:
        errors.setdefault("chain", []).extend(expired)
    if errors or key is None:
        raise ValidationFailed(_("The certificate cannot be used."), fields=errors)

    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode("ascii")
    bundle = "".join(c.public_bytes(pem).decode("ascii") for c in [leaf, *chain_certs]) + key_pem
    return CheckedCertificate(
        names=_names(leaf),
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        fingerprint_sha256=leaf.fingerprint(hashes.SHA256()).hex(),
        subject=leaf.subject.rfc4514_string(),
        issuer=leaf.issuer.rfc4514_string(),
        key_type=_key_type(key),
        bundle=bundle,
    )
