"""An uploaded certificate: parsed, key matched, chain in order, not expired; errors by field; HAProxy's bundle."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from apps.core.errors import ValidationFailed
from apps.loadbalancers.rules.certificates import certificate_validate
from tests.loadbalancers.support import make_certificate, make_chain

NOW = dt.datetime.now(dt.UTC)


def _fields(**kwargs: str) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        certificate_validate(now=NOW, **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == "validation_error"
    return caught.value.fields


@pytest.mark.parametrize("key_kind", ["ec", "rsa"])
def test_a_certificate_with_its_chain_and_key_is_accepted(key_kind):
    root = make_certificate("Root", ca=True)
    intermediate = make_certificate("Intermediate", issuer=root, ca=True)
    leaf = make_certificate(
        "shop.example.com",
        issuer=intermediate,
        names=("shop.example.com", "www.shop.example.com"),
        addresses=("192.0.2.10",),
        key_kind=key_kind,
    )
    checked = certificate_validate(
        certificate=leaf.certificate,
        chain=intermediate.certificate + root.certificate,
        private_key=leaf.key,
        now=NOW,
    )
    assert checked.names == ("shop.example.com", "www.shop.example.com", "192.0.2.10")
    assert checked.not_after == leaf.cert.not_valid_after_utc
    assert checked.fingerprint_sha256 == leaf.cert.fingerprint(hashes.SHA256()).hex()
    assert checked.key_type.startswith("EC" if key_kind == "ec" else "RSA 2048")
    # The bundle HAProxy reads: certificate, chain in order, then the key.
    bundled = x509.load_pem_x509_certificates(checked.bundle.encode())
    assert [c.subject for c in bundled] == [leaf.cert.subject, intermediate.cert.subject, root.cert.subject]
    assert checked.bundle.index("PRIVATE KEY") > checked.bundle.rindex("END CERTIFICATE")
    key = serialization.load_pem_private_key(checked.bundle.encode(), password=None)
    der, spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert key.public_key().public_bytes(der, spki) == leaf.private_key.public_key().public_bytes(der, spki)


def test_a_full_chain_pasted_as_the_certificate_is_split():
    chain = make_chain()
    checked = certificate_validate(
        certificate=chain.leaf.certificate + chain.intermediate.certificate,
        chain="",
        private_key=chain.leaf.key,
        now=NOW,
    )
    assert len(x509.load_pem_x509_certificates(checked.bundle.encode())) == 2


def test_without_san_the_common_name_names_it():
    self_signed = make_certificate("legacy.example.com")
    checked = certificate_validate(certificate=self_signed.certificate, chain="", private_key=self_signed.key, now=NOW)
    assert checked.names == ("legacy.example.com",)


def test_a_key_of_another_certificate_is_refused():
    chain = make_chain()
    other = make_certificate("other")
    fields = _fields(certificate=chain.leaf.certificate, chain=chain.intermediate.certificate, private_key=other.key)
    assert fields == {"private_key": ["This private key does not belong to the certificate."]}


def test_a_chain_out_of_order_is_refused():
    chain = make_chain()
    fields = _fields(
        certificate=chain.leaf.certificate,
        chain=chain.root.certificate + chain.intermediate.certificate,
        private_key=chain.leaf.key,
    )
    assert list(fields) == ["chain"]
    assert "Chain certificate 1" in fields["chain"][0] and "did not sign" in fields["chain"][0]


def test_a_chain_of_another_issuer_is_refused():
    chain = make_chain()
    stranger = make_certificate("Stranger CA", ca=True)
    fields = _fields(certificate=chain.leaf.certificate, chain=stranger.certificate, private_key=chain.leaf.key)
    assert "did not sign" in fields["chain"][0]


def test_an_expired_certificate_is_refused():
    expired = make_certificate(
        "old.example.com",
        not_before=NOW - dt.timedelta(days=100),
        not_after=NOW - dt.timedelta(days=1),
    )
    fields = _fields(certificate=expired.certificate, chain="", private_key=expired.key)
    assert list(fields) == ["certificate"]
    assert "expired on" in fields["certificate"][0]


def test_an_expired_intermediate_is_refused():
    root = make_certificate("Root", ca=True)
    intermediate = make_certificate(
        "Old Intermediate", issuer=root, ca=True, not_before=NOW - dt.timedelta(days=9), not_after=NOW - dt.timedelta(1)
    )
    leaf = make_certificate("x.example.com", issuer=intermediate, names=("x.example.com",))
    fields = _fields(certificate=leaf.certificate, chain=intermediate.certificate, private_key=leaf.key)
    assert any("expired on" in m for m in fields["chain"])


def test_garbage_is_refused_field_by_field():
    fields = _fields(certificate="hello", chain="-----BEGIN CERTIFICATE-----\nnope\n", private_key="secret")
    assert set(fields) == {"certificate", "chain", "private_key"}
    assert "required" in fields["certificate"][0] or "PEM" in fields["certificate"][0]


def test_an_empty_key_is_required():
    chain = make_chain()
    fields = _fields(certificate=chain.leaf.certificate, chain="", private_key="  ")
    assert fields["private_key"] == ["The private key is required."]


def test_an_encrypted_key_is_refused_with_advice():
    leaf = make_certificate("enc.example.com")
    encrypted = leaf.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()
    fields = _fields(certificate=leaf.certificate, chain="", private_key=encrypted)
    assert "without a passphrase" in fields["private_key"][0]


def test_a_weak_rsa_key_is_refused():
    weak = make_certificate("weak.example.com", key_kind="rsa1024")
    fields = _fields(certificate=weak.certificate, chain="", private_key=weak.key)
    assert "at least 2048 bits" in fields["private_key"][0]


def test_an_unsupported_key_type_is_refused():
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    leaf = make_certificate("x.example.com")
    fields = _fields(certificate=leaf.certificate, chain="", private_key=pem)
    assert "RSA or EC" in fields["private_key"][0]


def test_oversized_text_is_refused():
    fields = _fields(certificate="x" * (64 * 1024 + 1), chain="", private_key="y" * (64 * 1024 + 1))
    assert "64 KiB" in fields["certificate"][0] and "64 KiB" in fields["private_key"][0]
