"""Parsing and validation of OpenSSH public keys (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4).

Pure functions, no database: the key blob is base64-decoded and its wire
fields read, so a key whose text claims one type but holds another, a
truncated blob or an RSA modulus under 2048 bits is refused. The fingerprint
is OpenSSH's ``SHA256:`` form (``ssh-keygen -lf``): base64 of the SHA-256 of
the blob, without padding.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from django.utils.translation import gettext as _

from apps.core.errors import ValidationFailed

MIN_RSA_BITS = 2048
ECDSA_CURVES = {"ecdsa-sha2-nistp256": 256, "ecdsa-sha2-nistp384": 384, "ecdsa-sha2-nistp521": 521}
ALLOWED_TYPES = ("ssh-ed25519", "ssh-rsa", *ECDSA_CURVES)


@dataclass(frozen=True)
class ParsedKey:
    key_type: str
    bits: int
    fingerprint: str
    comment: str
    normalised: str  # "type base64 comment", one line


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_ssh_key", fields={"public_key": [message]})


def _read_string(blob: bytes, offset: int) -> tuple[bytes, int]:
    if offset + 4 > len(blob):
        raise ValueError("truncated")
    (length,) = struct.unpack(">I", blob[offset : offset + 4])
    end = offset + 4 + length
    if end > len(blob):
        raise ValueError("truncated")
    return blob[offset + 4 : end], end


def ssh_key_parse(text: str) -> ParsedKey:
    """Parse one OpenSSH public key line; raise ``ValidationFailed`` (code ``invalid_ssh_key``) if unusable."""
    line = " ".join((text or "").strip().split())
    if "\n" in (text or "").strip():
        raise _invalid(_("Paste exactly one public key."))
    parts = line.split(" ", 2)
    if len(parts) < 2:
        raise _invalid(_("A public key looks like “ssh-ed25519 AAAA… comment”."))
    key_type, data = parts[0], parts[1]
    comment = parts[2] if len(parts) > 2 else ""
    if key_type not in ALLOWED_TYPES:
        raise _invalid(_("Key type %(type)s is not accepted: use ssh-ed25519, ecdsa or ssh-rsa.") % {"type": key_type})
    try:
        blob = base64.b64decode(data, validate=True)
        inner_type, offset = _read_string(blob, 0)
        if inner_type.decode("ascii") != key_type:
            raise ValueError("type mismatch")
        bits = _bits(key_type, blob, offset)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise _invalid(_("This is not a valid %(type)s public key.") % {"type": key_type}) from exc
    if key_type == "ssh-rsa" and bits < MIN_RSA_BITS:
        raise _invalid(_("RSA keys need at least %(bits)s bits.") % {"bits": MIN_RSA_BITS})
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    normalised = f"{key_type} {data} {comment}".strip()
    return ParsedKey(
        key_type=key_type, bits=bits, fingerprint=f"SHA256:{digest}", comment=comment, normalised=normalised
    )


def _bits(key_type: str, blob: bytes, offset: int) -> int:
    if key_type == "ssh-ed25519":
        key, end = _read_string(blob, offset)
        if len(key) != 32 or end != len(blob):
            raise ValueError("bad ed25519 key")
        return 256
    if key_type == "ssh-rsa":
        exponent, offset = _read_string(blob, offset)
        modulus, end = _read_string(blob, offset)
        if not exponent or not modulus or end != len(blob):
            raise ValueError("bad rsa key")
        return int.from_bytes(modulus, "big").bit_length()
    curve, offset = _read_string(blob, offset)
    point, end = _read_string(blob, offset)
    if curve.decode("ascii") != key_type.rsplit("-", 1)[1] or not point or end != len(blob):
        raise ValueError("bad ecdsa key")
    return ECDSA_CURVES[key_type]
