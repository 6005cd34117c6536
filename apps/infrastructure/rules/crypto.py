"""Encryption at rest for secrets the platform must read back (Proxmox API token secrets).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with key rotation
through ``MultiFernet``: values are encrypted with the first key and decrypted
with any of them. Keys come from settings:

- ``FIELD_ENCRYPTION_KEY``: the current key; when empty, a key derived from
  ``SECRET_KEY`` (development only: production settings refuse to start
  without a key, and ``check --deploy`` reports it, apps/core/checks.py).
- ``FIELD_ENCRYPTION_OLD_KEYS``: keys still accepted for decryption while
  ``manage.py rotate_field_encryption`` re-encrypts rows with the current key.

A key is either a Fernet key (32 url-safe base64 bytes) or any passphrase,
which is stretched with SHA-256 into one. Unlike some field libraries, a value
that no key can decrypt raises ``DecryptionError`` instead of returning the
ciphertext. Docs: https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

# Stored values carry a prefix so a plaintext that slipped into the column is
# recognisable, and so a future scheme can sit beside this one.
PREFIX = "fernet1:"


class DecryptionError(Exception):
    """No configured key decrypts the value (wrong key, or not an encrypted value)."""


def _as_fernet_key(key: str) -> bytes:
    raw = key.encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (binascii.Error, ValueError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(b"vmcloud.field-encryption:" + raw).digest())


def _configured_keys() -> tuple[str, ...]:
    current = settings.FIELD_ENCRYPTION_KEY or ""
    old = tuple(settings.FIELD_ENCRYPTION_OLD_KEYS or ())
    if not current:
        # Development default: derived from SECRET_KEY (and its fallbacks, so a
        # rotated SECRET_KEY still decrypts what the old one encrypted).
        current = "secret-key:" + settings.SECRET_KEY
        old += tuple("secret-key:" + k for k in settings.SECRET_KEY_FALLBACKS)
    return (current, *old)


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_as_fernet_key(k)) for k in keys])


def _fernet() -> MultiFernet:
    return _fernet_for(_configured_keys())


def encrypt(plaintext: str) -> str:
    """Encrypt ``plaintext`` with the current key; the result is ASCII, safe for a text column."""
    return PREFIX + _fernet().encrypt(plaintext.encode()).decode()


def decrypt(stored: str) -> str:
    """Decrypt a value written by ``encrypt`` with any configured key."""
    if not stored.startswith(PREFIX):
        raise DecryptionError("value is not encrypted")
    try:
        return _fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("no configured key decrypts this value") from exc


def rotate(stored: str) -> str:
    """Re-encrypt ``stored`` with the current key (``MultiFernet.rotate``)."""
    if not stored.startswith(PREFIX):
        raise DecryptionError("value is not encrypted")
    try:
        return PREFIX + _fernet().rotate(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("no configured key decrypts this value") from exc
