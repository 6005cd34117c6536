"""System checks for what a production deployment must have (``manage.py check --deploy``).

Django's own deploy checks cover HTTPS, cookies and ``SECRET_KEY``; these add
the platform's: a shared cache (rate limits and login lockouts are counted in
it, apps/teams/ratelimit.py and apps/accounts/services/lockout.py), an explicit field
encryption key (apps/infrastructure/rules/crypto.py), and a client address that a
proxy cannot hide (apps/docs/content/sign-in-and-mfa.md, "Behind a proxy").
``config/settings/production.py`` refuses to start without the first two.
Docs: https://docs.djangoproject.com/en/5.2/topics/checks/
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.checks import Warning as CheckWarning

# Backends whose counters live in one process (or nowhere): each web process
# would count attempts alone, multiplying every limit by the process count.
_UNSHARED_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register(Tags.security, deploy=True)
def shared_cache_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if settings.REDIS_URL and backend not in _UNSHARED_CACHES:
        return []
    return [
        Error(
            "No shared cache: REDIS_URL is not set (or the default cache is per-process memory).",
            hint="Set REDIS_URL: API rate limits and login lockouts are counted in Redis, shared by every process.",
            id="vmcloud.E001",
        )
    ]


@register(Tags.security, deploy=True)
def field_encryption_key_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if settings.FIELD_ENCRYPTION_KEY:
        return []
    return [
        Error(
            "FIELD_ENCRYPTION_KEY is not set: secrets at rest are encrypted with a key derived from SECRET_KEY.",
            hint='Set FIELD_ENCRYPTION_KEY to a Fernet key: python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"',
            id="vmcloud.E002",
        )
    ]


@register(Tags.security, deploy=True)
def trusted_proxies_deploy_check(app_configs: Any = None, **kwargs: Any) -> list[CheckWarning]:
    if not settings.SECURE_PROXY_SSL_HEADER or settings.TRUSTED_PROXIES:
        return []
    return [
        CheckWarning(
            "SECURE_PROXY_SSL_HEADER says the app runs behind a proxy, but TRUSTED_PROXIES is empty: every client "
            "would share the proxy's address for login lockouts and rate limits.",
            hint="List the proxy's addresses or networks in TRUSTED_PROXIES (e.g. 10.0.0.0/24).",
            id="vmcloud.W003",
        )
    ]


@register(Tags.security)
def trusted_proxies_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    from apps.core.middleware import trusted_proxy_networks

    try:
        trusted_proxy_networks()
    except ValueError as exc:
        return [
            Error(
                f"TRUSTED_PROXIES has an entry that is not an address or a network: {exc}",
                hint="Use addresses or CIDR networks, comma-separated: 10.0.0.2,192.168.1.0/24",
                id="vmcloud.E004",
            )
        ]
    return []
