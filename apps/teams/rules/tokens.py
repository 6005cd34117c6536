"""The format of API tokens and invitation tokens, and how they are hashed at rest.

An API token reads ``vmc_pat_<key id>_<secret><checksum>``:

* ``vmc_pat_`` is a fixed, registered-looking prefix so secret scanners
  (GitHub secret scanning, gitleaks, trufflehog) can match leaked tokens with
  one regular expression: ``vmc_pat_[0-9A-Za-z]{10}_[0-9A-Za-z]{46}``;
* the key id (10 base62 characters) is stored in clear, with the fixed prefix,
  as ``ApiToken.prefix``: it finds the row in one indexed lookup and is what
  lists and audit events show;
* the secret is 40 base62 characters from ``secrets`` (≈238 bits);
* the checksum (6 base62 characters of CRC32 over everything before it, as
  GitHub's tokens do) lets scanners and our authentication reject typos and
  random strings without a database query.

Only ``sha256(token)`` is stored. A slow password hash (PBKDF2, Argon2) exists
to make guessing *low-entropy* human passwords expensive; a 238-bit random
secret cannot be guessed, so one SHA-256 gives the same protection against a
database leak while keeping token authentication to microseconds per request
(OWASP Password Storage Cheat Sheet, "hashing vs. high-entropy secrets").
Comparison is constant-time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
import zlib
from dataclasses import dataclass

TOKEN_PREFIX = "vmc_pat_"
_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
_KEY_ID_LEN = 10
_SECRET_LEN = 40
_CHECKSUM_LEN = 6
TOKEN_RE = re.compile(
    rf"^(?P<prefix>{TOKEN_PREFIX}[0-9A-Za-z]{{{_KEY_ID_LEN}}})_(?P<body>[0-9A-Za-z]{{{_SECRET_LEN}}})"
    rf"(?P<checksum>[0-9A-Za-z]{{{_CHECKSUM_LEN}}})$"
)


@dataclass(frozen=True)
class NewToken:
    token: str  # shown to the user once, never stored
    prefix: str
    secret_hash: str


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def _base62(number: int, width: int) -> str:
    out = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        out.append(_ALPHABET[rest])
    return "".join(reversed(out))


def _checksum(text: str) -> str:
    return _base62(zlib.crc32(text.encode()), _CHECKSUM_LEN)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_api_token() -> NewToken:
    head = f"{TOKEN_PREFIX}{_random(_KEY_ID_LEN)}_{_random(_SECRET_LEN)}"
    token = head + _checksum(head)
    return NewToken(token=token, prefix=head[: len(TOKEN_PREFIX) + _KEY_ID_LEN], secret_hash=hash_token(token))


def parse_api_token(token: str) -> str | None:
    """The stored prefix of a well-formed token with a valid checksum, else None."""
    match = TOKEN_RE.match(token)
    if match is None:
        return None
    head = token[:-_CHECKSUM_LEN]
    if not hmac.compare_digest(_checksum(head), match["checksum"]):
        return None
    return match["prefix"]


def token_matches(token: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), secret_hash)


def generate_invitation_token() -> tuple[str, str]:
    """(token for the e-mailed link, its SHA-256 to store)."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)
