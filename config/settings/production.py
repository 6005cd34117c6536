"""Production settings: secrets from the environment, HTTPS everywhere.

Refuses to start without Redis (``REDIS_URL``) and an explicit
``FIELD_ENCRYPTION_KEY``: without Redis the cache, and so the API rate limits
and login lockouts, would fall back to per-process memory; without the key,
secrets at rest would be encrypted with a key derived from ``SECRET_KEY``.
``manage.py check --deploy`` reports the same through apps/core/checks.py.
Docs: https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
"""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import STORAGES, env

_missing = [name for name in ("REDIS_URL", "FIELD_ENCRYPTION_KEY") if not env.str(name, default="")]
if _missing:
    raise ImproperlyConfigured(
        "Production needs "
        + " and ".join(_missing)
        + ": REDIS_URL for the shared cache (rate limits, login lockouts), FIELD_ENCRYPTION_KEY (a Fernet key) "
        "for secrets at rest. See .env.example."
    )

SECRET_KEY = env.str("SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
WHITENOISE_USE_FINDERS = False
