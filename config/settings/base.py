"""Settings shared by every environment.

Every integration switches on only when configured: with no environment at all
the platform runs on SQLite, console e-mail, an in-process cache and a Celery
broker on the local file system (see ``CELERY_BROKER_URL`` below).
Environment variables are read with django-environ; ``.env.example`` lists them.
Docs: https://docs.djangoproject.com/en/5.2/ref/settings/
"""

from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

# Task names are constants of each app (plain strings, importable before Django is set up), so the
# beat schedule and the routes below spell them as the tasks do (docs/dev/style.md#celery-tasks).
from apps.alerts import task_names as alerts_tasks
from apps.billing import task_names as billing_tasks
from apps.core import task_names as core_tasks
from apps.firewalls import task_names as firewalls_tasks
from apps.infrastructure import task_names as infrastructure_tasks
from apps.instances import task_names as instances_tasks
from apps.loadbalancers import task_names as loadbalancers_tasks
from apps.managed import task_names as managed_tasks
from apps.orders import task_names as orders_tasks
from apps.sso import task_names as sso_tasks

# Generic admin/queryset classes (ModelAdmin[Model]) at runtime, for typing.
django_stubs_ext.monkeypatch()

# The repository's root directory: relative paths in settings and data (TLS CA files, seeds) start here.
BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Runtime state (SQLite file, file-system broker, collected static) lives in var/,
# which git ignores.
VAR_DIR = Path(environ.Env().str("VMCLOUD_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

SECRET_KEY = env.str("SECRET_KEY", default="insecure-dev-key-change-me-0123456789abcdefghijklmnop")
# Former keys still accepted for sessions and signed links while a rotation
# settles (apps/docs/content/runbook-rotate-secrets.md).
SECRET_KEY_FALLBACKS: list[str] = env.list("SECRET_KEY_FALLBACKS", default=[])
# Encryption at rest of secrets the platform reads back (Proxmox token secrets):
# Fernet keys, the first encrypts, all decrypt (rotation). Empty: derived from
# SECRET_KEY, for development only. Docs: https://cryptography.io/en/latest/fernet/
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")
# Former Fernet keys: they still decrypt until every secret is re-encrypted
# (apps/docs/content/runbook-rotate-secrets.md).
FIELD_ENCRYPTION_OLD_KEYS: list[str] = env.list("FIELD_ENCRYPTION_OLD_KEYS", default=[])
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The django.contrib.sites row that apps.core.services keeps in step with SITE_NAME and SITE_URL.
SITE_ID = 1
# The platform's name in page titles, e-mails and the TOTP issuer.
SITE_NAME = "VMCloud"
# The public base URL, used in e-mails and SAML metadata.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# ---------------------------------------------------------------------------
# Applications. Order of the project's apps mirrors the layer order that
# import-linter enforces (see .importlinter): higher apps may import lower ones.
# ---------------------------------------------------------------------------
DJANGO_APPS = [
    # Django's admin with the back office's site as the default one (apps/docs/content/back-office.md).
    "apps.backoffice.apps.BackOfficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "guardian",
    "allauth",
    "allauth.account",
    # MFA (TOTP, recovery codes, WebAuthn passkeys) and SAML SSO; see the
    # "Identity" block below.
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.saml",
    "djstripe",
]
LOCAL_APPS = [
    "apps.core",
    "apps.accounts",
    "apps.teams",
    "apps.sso",
    "apps.catalogue",
    "apps.infrastructure",
    "apps.instances",
    "apps.volumes",
    "apps.networks",
    "apps.firewalls",
    "apps.floating_ips",
    "apps.managed",
    "apps.loadbalancers",
    "apps.orders",
    "apps.alerts",
    "apps.billing",
    "apps.docs",
    "apps.portal",
    "apps.backoffice",
    "apps.pvesim",  # Proxmox VE simulator: a dev/test tool, imported by no production app
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# The client address (lockouts, rate limits, audit): REMOTE_ADDR, unless it is
# one of these reverse proxies (addresses or CIDRs, e.g. "10.0.0.0/8"); then the
# right-most X-Forwarded-For entry that is not a listed proxy
# (apps.core.middleware.client_ip). Never list a network clients connect from.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    # /healthz and /readyz answer before the host check and the HTTPS redirect (apps/core/middleware.py).
    "apps.core.middleware.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # RateLimit-* headers on every /api/ response (apps/teams/middleware.py).
    "apps.teams.middleware.RateLimitHeadersMiddleware",
    # Sessions of suspended users end; members of MFA-requiring organisations
    # must enrol first (apps/accounts/middleware.py, apps/sso/middleware.py).
    "apps.accounts.middleware.SuspendedUserMiddleware",
    "apps.sso.middleware.MfaRequiredMiddleware",
    # A domain error no portal view handled is a page with its status, not a 500.
    "apps.core.middleware.ApplicationErrorPageMiddleware",
    # Opening another organisation's object makes it the current organisation (apps/portal/middleware.py).
    "apps.portal.middleware.OrganisationFollowsObjectMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.site",
                "apps.teams.context_processors.organisations",
            ],
        },
    },
]

# ---------------------------------------------------------------------------
# Data stores. DATABASE_URL switches to PostgreSQL (postgres://user@host/db);
# REDIS_URL switches the cache (and, by default, the Celery broker) to Redis.
# ---------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # WAL and a busy timeout let the web process, the worker and beat share the
    # SQLite file of the embedded run without "database is locked" errors.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# redis://host:port/db of the shared cache (rate limits, login lockouts) and the default Celery broker;
# empty: an in-process cache (development only; production.py refuses to start without it).
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="vmcloud"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# ---------------------------------------------------------------------------
# Authentication. Email is the login (apps.accounts.User); allauth drives the
# portal's sign-up and login. Docs: https://docs.allauth.org/en/latest/account/configuration.html
# ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "portal:home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False

# ---------------------------------------------------------------------------
# Identity (apps.accounts, apps.sso): allauth account, MFA and SAML.
# Docs: https://docs.allauth.org/en/latest/account/configuration.html
#       https://docs.allauth.org/en/latest/mfa/configuration.html
#       https://docs.allauth.org/en/latest/socialaccount/providers/saml.html
# ---------------------------------------------------------------------------
# The adapters add lockout, suspension, the personal organisation at sign-up
# and the "SSO required" rules (apps/sso/adapters.py explains each hook).
ACCOUNT_ADAPTER = "apps.sso.adapters.PortalAccountAdapter"
SOCIALACCOUNT_ADAPTER = "apps.sso.adapters.PortalSocialAccountAdapter"
# Verification by link; once the address is confirmed the user is logged in.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False  # a GET (mail scanners) must not confirm
# Email change: one address per user, replaced only once the new one is verified.
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_MAX_EMAIL_ADDRESSES = 2
# Security notifications (password changed, email changed, MFA added/removed).
ACCOUNT_EMAIL_NOTIFICATIONS = True
# Don't reveal whether an address has an account in the password reset form.
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = False  # sessions end with SESSION_COOKIE_AGE idle time
# Login and MFA brute force: allauth's "login_failed" limit (a cache list
# rewritten under a spin lock; bursts get timing-dependent 429s) is replaced by
# atomic INCR counters (apps/accounts/services/lockout.py). Other allauth limits stay.
ACCOUNT_RATE_LIMITS = {"login_failed": None}
# Counters per account and address, per address, per account; an account and
# address that logged in recently is held to its own counter only (the
# module's docstring and apps/docs/content/sign-in-and-mfa.md explain why).
LOGIN_ATTEMPTS_LIMIT = env.int("LOGIN_ATTEMPTS_LIMIT", default=5)  # per account and client IP, and window
LOGIN_ATTEMPTS_IP_LIMIT = env.int("LOGIN_ATTEMPTS_IP_LIMIT", default=50)  # per client IP and window
LOGIN_ATTEMPTS_ACCOUNT_LIMIT = env.int("LOGIN_ATTEMPTS_ACCOUNT_LIMIT", default=30)  # per account, all IPs
LOGIN_KNOWN_ADDRESS_DAYS = env.int("LOGIN_KNOWN_ADDRESS_DAYS", default=30)  # days a login's address stays known
MFA_ATTEMPTS_LIMIT = env.int("MFA_ATTEMPTS_LIMIT", default=5)  # wrong codes per user and window
LOGIN_ATTEMPTS_WINDOW = env.int("LOGIN_ATTEMPTS_WINDOW", default=15 * 60)  # seconds

MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = SITE_NAME
# WebAuthn needs a secure context: HTTPS, or http://localhost in development.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env.bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", default=DEBUG)
MFA_FORMS = {
    "authenticate": "apps.accounts.forms.MFAAuthenticateForm",
    "reauthenticate": "apps.accounts.forms.MFAReauthenticateForm",
}

# SAML: SocialApps are built per organisation from apps.sso.SamlConnection;
# the provider subclass adds replay protection and the domain rules.
SOCIALACCOUNT_PROVIDERS = {
    "saml": {"provider_class": "apps.sso.saml_provider.OrganisationSAMLProvider"},
}
SOCIALACCOUNT_AUTO_SIGNUP = True  # just-in-time users from the IdP's attributes
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"  # the org's verified domains vouch for the address
# An existing account with the asserted (verified-domain) address is signed in
# and linked only when it is already a member of the connection's organisation
# (apps.sso.adapters.PortalSocialAccountAdapter.authenticate_by_email); any
# other account is connected by its owner, logged in with their own
# credentials, and told by email (apps/docs/content/single-sign-on.md).
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_STORE_TOKENS = False
# SSO domain ownership is proven by a DNS TXT record (apps/sso/services/dns_txt.py):
# the nameservers asked (empty: the system's resolver) and their port.
SSO_DNS_NAMESERVERS = env.list("SSO_DNS_NAMESERVERS", default=[])
SSO_DNS_PORT = env.int("SSO_DNS_PORT", default=53)  # UDP/TCP port of those nameservers
SSO_DNS_TIMEOUT = env.float("SSO_DNS_TIMEOUT", default=5.0)  # seconds, all tries included
# IdP metadata URLs are fetched from public addresses only (server-side request
# forgery, apps/docs/content/single-sign-on.md); True lets an on-premises IdP
# on a private network through.
SSO_METADATA_PRIVATE_ADDRESSES = env.bool("SSO_METADATA_PRIVATE_ADDRESSES", default=False)
# Seconds an IdP signing certificate that its metadata no longer lists is still
# accepted (certificate rollover, apps/docs/content/single-sign-on.md).
SSO_IDP_CERT_GRACE = env.int("SSO_IDP_CERT_GRACE", default=7 * 24 * 3600)
# The SP's own key pair (PEM files): signs our LogoutRequests and LogoutResponses
# and is published in the SP metadata. Without it logout messages go unsigned,
# which IdPs that require signed logout requests refuse.
SSO_SP_CERTIFICATE_FILE = env.str("SSO_SP_CERTIFICATE_FILE", default="")  # path of the PEM certificate
SSO_SP_PRIVATE_KEY_FILE = env.str("SSO_SP_PRIVATE_KEY_FILE", default="")  # path of the PEM private key
# OWASP ASVS 2.4: Django's PBKDF2-SHA256 default (1,000,000 iterations in 5.2)
# meets level 2; minimum length 12 per ASVS 2.1.1.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-guardian: no anonymous user row; object permissions only for grants.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
SESSION_SAVE_EVERY_REQUEST = True  # idle expiry: the age restarts at each request
CSRF_COOKIE_SAMESITE = "Lax"

# ---------------------------------------------------------------------------
# Internationalisation: English first, French next.
# ---------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------
# Static files: every asset is served by the app (whitenoise), never a CDN.
# ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# ---------------------------------------------------------------------------
# E-mail: console by default; EMAIL_URL (smtp://user:pass@host:587) switches on SMTP.
# ---------------------------------------------------------------------------
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="VMCloud <no-reply@vmcloud.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# ---------------------------------------------------------------------------
# REST API: DRF under /api/v1/, one error body (apps.core.api.exceptions).
# Docs: https://www.django-rest-framework.org/api-guide/settings/
# ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # The token class comes first: DRF takes the 401 challenge (WWW-Authenticate)
    # from the first class; sessions have none, so 401s would turn into 403s.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.teams.api.authentication.ApiTokenAuthentication",  # Authorization: Bearer vmc_pat_…
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Atomic per-token / per-user counters (apps/teams/ratelimit.py), not DRF's cache throttles.
    "DEFAULT_THROTTLE_CLASSES": ["apps.teams.api.throttling.AtomicRateThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's defaults, with a JSON parser that answers 400 to over-deep nesting (apps/core/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# API rate limits: (requests, window in seconds) per token, per user (all of
# their tokens and sessions together) and per anonymous IP. Counted atomically
# in Redis (REDIS_URL), else in-process; see apps/teams/ratelimit.py.
API_RATE_LIMITS: dict[str, tuple[int, int]] = {
    "token": (env.int("API_RATE_LIMIT_TOKEN", default=600), 60),
    "user": (env.int("API_RATE_LIMIT_USER", default=1200), 60),
    "anonymous": (env.int("API_RATE_LIMIT_ANONYMOUS", default=120), 60),
}

# drf-spectacular. Swagger UI and Redoc come from drf-spectacular-sidecar so
# the docs work offline. Docs: https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": "VMCloud API",
    # <id:…> path ids (apps/core/converters.py): 1 to 18 digits, so they fit a bigint.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}},
    # The full description (the error body with `fields`, the common headers) is set by
    # apps.core.api.schema.add_error_responses, next to the Error component it describes.
    "DESCRIPTION": "The VMCloud public API: catalogue, organisations, orders, instances and billing.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The API speaks JSON (apps/docs/content/api-overview.md): bodies are documented as JSON only,
    # though DRF's form parsers stay for the browsable forms of tests and tools.
    "PARSER_WHITELIST": ["apps.core.api.parsers.JSONParser"],
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "InvitationStatusEnum": "apps.teams.choices.InvitationStatus",
        "RoleEnum": "apps.teams.choices.Role",
        "TokenScopeEnum": "apps.teams.choices.TokenScope",
        "ProjectAccessEnum": "apps.teams.choices.ProjectAccess",
        "ActorKindEnum": "apps.core.choices.ActorKind",
        "OrderStateEnum": "apps.orders.choices.OrderState",
        "FulfilmentStatusEnum": "apps.orders.choices.FulfilmentStatus",
        "InvoiceStatusEnum": "apps.billing.choices.InvoiceStatus",
        "CreditKindEnum": "apps.billing.choices.CreditKind",
        "CreditNoteKindEnum": "apps.billing.choices.CreditNoteKind",
        "FamilyKindEnum": "apps.catalogue.choices.FamilyKind",
        "ActionTypeEnum": "apps.instances.choices.ActionType",
        "ActionStatusEnum": "apps.instances.choices.ActionStatus",
        "ServiceStateEnum": "apps.managed.choices.ServiceState",
        "ServiceFamilyEnum": "apps.managed.choices.ServiceFamily",
    },
    "TAGS": [
        {"name": "catalogue", "description": "Public product catalogue: no login needed."},
        {"name": "organisations", "description": "Your organisations: settings, billing details, ownership."},
        {"name": "members", "description": "Members of an organisation and their roles."},
        {"name": "invitations", "description": "E-mail invitations to an organisation or one project."},
        {"name": "projects", "description": "Projects, which hold resources, and per-project grants."},
        {"name": "tokens", "description": "Your personal access tokens (Bearer authentication)."},
        {"name": "audit", "description": "The organisation's audit log, as JSON or CSV."},
        {"name": "quotes", "description": "Price and live availability of a configuration, before ordering."},
        {"name": "orders", "description": "Orders: place (with Idempotency-Key), follow, cancel."},
    ],
}

# ---------------------------------------------------------------------------
# Celery. Docs: https://docs.celeryq.dev/en/stable/userguide/configuration.html
# With no broker configured, the embedded default is kombu's file-system
# transport in var/celery: a real worker and beat run with no server at all.
# ---------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
_broker_folder = VAR_DIR / "celery" / "queue"
# The longest task is the start of a large GPU VM (minutes); the visibility
# timeout must exceed it or Redis re-delivers a running task to a second worker.
CELERY_LONGEST_TASK_SECONDS = 30 * 60
if CELERY_BROKER_URL.startswith("filesystem"):
    # kombu transport options, also used by the health check and metrics to reach the same broker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_folder),
        "data_folder_out": str(_broker_folder),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
        # kombu's default is ./control in the working directory: inside the
        # repository, and not writable for the image's non-root user.
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
else:
    # Redis re-delivers an unacknowledged message after visibility_timeout (seconds).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * CELERY_LONGEST_TASK_SECONDS}
CELERY_RESULT_BACKEND = None  # state lives in our own models (Actions), not results
CELERY_TASK_IGNORE_RESULT = True
# acks_late: a message is acknowledged after the task ends, so a crashed
# worker's task is redelivered; tasks are idempotent (they claim work with a
# conditional UPDATE) so redelivery is safe.
CELERY_TASK_ACKS_LATE = True
# Without this, acks_late tasks of a worker child killed by the OOM killer or
# SIGKILL are acknowledged (lost); with it they are rejected and requeued.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per process: long Proxmox tasks must not hold others back.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Hard limit above the longest Proxmox wait; the soft limit lets a task record
# its state before it is killed.
CELERY_TASK_TIME_LIMIT = CELERY_LONGEST_TASK_SECONDS + 60
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_LONGEST_TASK_SECONDS
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# django-celery-beat stores schedules in the database, editable in the admin.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Queues per kind of work, so a slow invoice run never delays a server start
# and each kind scales with its own workers (apps/docs/content/production.md,
# "Celery queues"). A worker started without -Q consumes every queue (make run).
# On RabbitMQ the queues are quorum queues: replicated, durable, and Celery
# turns off global QoS for them itself. Docs:
# https://docs.celeryq.dev/en/stable/userguide/routing.html
# https://www.rabbitmq.com/docs/quorum-queues
CELERY_QUEUE_NAMES = ("default", "provisioning", "billing", "notifications")
_quorum = {"x-queue-type": "quorum"} if CELERY_BROKER_URL.startswith(("amqp", "pyamqp")) else None
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name, type="direct"), routing_key=name, queue_arguments=_quorum) for name in CELERY_QUEUE_NAMES
]
# Exact names win over patterns (Celery's MapRoute); unlisted tasks go to "default".
CELERY_TASK_ROUTES = {
    billing_tasks.INVOICE_EMAIL: {"queue": "notifications"},
    billing_tasks.BUDGET_WEBHOOK_SEND: {"queue": "notifications"},
    "instances.*": {"queue": "provisioning"},
    "orders.*": {"queue": "provisioning"},
    "infrastructure.*": {"queue": "provisioning"},
    # The resources around a server act on its VM through Proxmox, as provisioning does.
    "volumes.*": {"queue": "provisioning"},
    "networks.*": {"queue": "provisioning"},
    "firewalls.*": {"queue": "provisioning"},
    "floating_ips.*": {"queue": "provisioning"},
    # Managed services' backend calls (apps.managed.tasks): a hosting panel, Nomad or a CDN partner's API.
    "managed.*": {"queue": "provisioning"},
    # Load balancers' applies act on their VM through the Proxmox guest agent (apps.loadbalancers.tasks).
    "loadbalancers.*": {"queue": "provisioning"},
    "billing.*": {"queue": "billing"},
}
# Periodic tasks declared in code; the DatabaseScheduler copies them into its
# tables at start, where staff can pause or re-time them in the admin.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Forget consumed SAML assertion ids past their expiry (apps.sso).
    "sso-purge-assertions": {"task": sso_tasks.PURGE_ASSERTIONS, "schedule": 60.0 * 60},
    # Re-read IdP metadata URLs: certificate rollovers and new endpoints (apps.sso).
    "sso-refresh-metadata": {"task": sso_tasks.REFRESH_METADATA, "schedule": 24 * 60.0 * 60},
    # Record that a worker runs tasks; /healthz reads it (apps.core).
    "core-heartbeat": {"task": core_tasks.HEARTBEAT, "schedule": 60.0},
    # Send again the tasks the broker refused while it was away (apps.core.models.UnsentTask).
    "core-resend-unsent-tasks": {"task": core_tasks.RESEND_UNSENT_TASKS, "schedule": 30.0},
    # Pull nodes, GPUs, mappings, storages and templates from every cluster (apps.infrastructure).
    "infrastructure-sync-inventory": {"task": infrastructure_tasks.SYNC_INVENTORY, "schedule": 600.0},
    # Release placement reservations left uncommitted past their deadline that nothing holds (apps.infrastructure).
    "infrastructure-expire-reservations": {
        "task": infrastructure_tasks.RELEASE_EXPIRED_RESERVATIONS,
        "schedule": 900.0,
    },
    # Safety net only: orders complete when their instance's status changes (the
    # apps.instances.signals.instance_status_changed receiver); this finds what a lost signal missed.
    "orders-sync": {"task": orders_tasks.SYNC, "schedule": 600.0},
    # Compare every instance with Proxmox: power drift, orphan and missing VMs, stuck work (apps.instances).
    "instances-reconcile": {"task": instances_tasks.RECONCILE, "schedule": 300.0},
    # Send again the task of a volume, network, firewall or floating IP action whose message was lost (apps.instances).
    "instances-resume-resource-actions": {"task": instances_tasks.RESUME_RESOURCE_ACTIONS, "schedule": 120.0},
    # Load balancers' targets follow servers' label edits; applies whose message was lost are sent again.
    "loadbalancers-targets-sync": {"task": loadbalancers_tasks.TARGETS_SYNC, "schedule": 120.0},
    # Send again a managed service's backend call whose worker died mid-call (apps.managed).
    "managed-resume-backend-calls": {"task": managed_tasks.RESUME_BACKEND_CALLS, "schedule": 300.0},
    # Meter every billable resource for each closed hour, catching up missed ones (apps.billing).
    "billing-meter": {"task": billing_tasks.METER, "schedule": crontab(minute=5)},
    # Evaluate budgets after metering (apps.billing).
    "billing-budgets": {"task": billing_tasks.BUDGETS_EVALUATE, "schedule": crontab(minute=15)},
    # Draft and issue last month's invoices on the 1st (apps.billing).
    "billing-invoices": {"task": billing_tasks.INVOICES_ISSUE, "schedule": crontab(minute=30, hour=2)},
    # Reminders, suspension and termination of overdue organisations (apps.billing).
    "billing-dunning": {"task": billing_tasks.DUNNING, "schedule": crontab(minute=0, hour="*/6")},
    # Process Stripe webhook events left pending (a worker died mid-way) (apps.billing).
    "billing-stripe-events": {"task": billing_tasks.STRIPE_EVENTS_SWEEP, "schedule": 300.0},
}

# ---------------------------------------------------------------------------
# Volumes (apps.volumes): default quotas of an organisation (issue 13, "For
# every resource above"); staff override them per organisation (admin "Volume
# quotas"). Counted over volumes not deleted; sizes in GB.
# ---------------------------------------------------------------------------
VOLUMES_DEFAULT_QUOTAS = {
    "max_volumes": env.int("VOLUMES_QUOTA_MAX_VOLUMES", default=50),
    "max_total_gb": env.int("VOLUMES_QUOTA_MAX_TOTAL_GB", default=20_000),
}

# ---------------------------------------------------------------------------
# Orders (apps.orders): quotas and the staff approval rules.
# ---------------------------------------------------------------------------
# Default limits of an organisation; staff override them per organisation
# (admin "Organisation quotas"). Counted over live instances and open orders.
ORDERS_DEFAULT_QUOTAS = {
    "max_instances": env.int("ORDERS_QUOTA_MAX_INSTANCES", default=10),
    "max_gpus": env.int("ORDERS_QUOTA_MAX_GPUS", default=2),
}
# The first order of an organisation above this monthly cap (EUR) waits for staff approval.
ORDERS_APPROVAL_FIRST_ORDER_ABOVE = env.str("ORDERS_APPROVAL_FIRST_ORDER_ABOVE", default="100")  # Decimal string
# Every GPU order waits for staff approval when true (fraud control on scarce GPUs).
ORDERS_APPROVAL_GPU = env.bool("ORDERS_APPROVAL_GPU", default=False)
# The GPU risk policy (admin "GPU risk policy": organisation age, payment method, billing identity) is on
# when its row is first created; staff tune it in the back office (apps/docs/content/ordering.md).
ORDERS_GPU_RISK_POLICY = env.bool("ORDERS_GPU_RISK_POLICY", default=True)

# ---------------------------------------------------------------------------
# Instances (apps.instances): the Proxmox work of a server's lifecycle.
# Docs: apps/docs/content/instances.md, apps/docs/content/reconciliation.md.
# ---------------------------------------------------------------------------
# Keyword options of every ProxmoxDriver the instances app builds (apps/infrastructure/proxmox/driver.py):
# timeout (seconds per HTTP request), task_poll_interval (seconds between task status reads), retries
# (of a transient error), backoff_base and backoff_cap (seconds). Empty: the driver's own defaults.
# A JSON object in the environment, e.g. {"timeout": 30, "retries": 6}.
INSTANCES_DRIVER_OPTIONS: dict[str, Any] = env.json("INSTANCES_DRIVER_OPTIONS", default={})
# Seconds a clean shutdown (ACPI, before a resize, rollback or delete) may take before PVE forces the VM off.
INSTANCES_SHUTDOWN_TIMEOUT_SECONDS = env.int("INSTANCES_SHUTDOWN_TIMEOUT_SECONDS", default=120)
# Seconds provisioning waits for the guest agent to answer after the first boot; then it goes on (never fails).
INSTANCES_GUEST_AGENT_WAIT_SECONDS = env.float("INSTANCES_GUEST_AGENT_WAIT_SECONDS", default=300.0)
# Seconds an instance may stay busy (provisioning, resizing, deleting...) with no live task lease before
# the reconcile task puts it in error (apps/docs/content/reconciliation.md "Stuck operations").
INSTANCES_STUCK_AFTER_SECONDS = env.int("INSTANCES_STUCK_AFTER_SECONDS", default=2 * 3600)

# Browser console: the public ws(s):// base of ``manage.py consoleproxy``; the browser connects to
# <base>/console/<single-use ticket> and never to a Proxmox node (docs: apps/docs/content/instances.md).
CONSOLE_PROXY_PUBLIC_URL = env.str("CONSOLE_PROXY_PUBLIC_URL", default="ws://127.0.0.1:8010")
# Pages allowed to open a console (the WebSocket handshake's Origin); empty: CSRF_TRUSTED_ORIGINS and the
# hosts of ALLOWED_HOSTS. RFC 6455 §10.2; apps/instances/consoleproxy.py origin_allowed.
CONSOLE_ALLOWED_ORIGINS: list[str] = env.list("CONSOLE_ALLOWED_ORIGINS", default=[])

# ---------------------------------------------------------------------------
# Billing (apps.billing) and Stripe through dj-stripe. Docs: apps/docs/content/billing.md,
# https://dj-stripe.dev/ and https://docs.stripe.com/webhooks.
# ---------------------------------------------------------------------------
# Payments switch on only when a secret key is configured; without one the
# portal says payments are off, and invoices are still issued and e-mailed.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")  # whsec_… of our endpoint
STRIPE_LIVE_MODE = env.bool("STRIPE_LIVE_MODE", default=False)
STRIPE_TEST_SECRET_KEY = "" if STRIPE_LIVE_MODE else STRIPE_SECRET_KEY
STRIPE_LIVE_SECRET_KEY = STRIPE_SECRET_KEY if STRIPE_LIVE_MODE else ""
# Stripe rejects signatures older than this (seconds); Stripe's own default.
STRIPE_WEBHOOK_TOLERANCE = env.int("STRIPE_WEBHOOK_TOLERANCE", default=300)
# ... and signatures dated ahead of our clock by more than this (seconds): clock skew only.
STRIPE_WEBHOOK_FUTURE_TOLERANCE = env.int("STRIPE_WEBHOOK_FUTURE_TOLERANCE", default=60)
# dj-stripe 2.11 declares this API version; leaving it unset would send stripe-python's own
# (docs/dev/dependencies.md#dj-stripe-api-version).
STRIPE_API_VERSION = "2026-05-27.dahlia"
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
# The organisation is the Stripe customer (one per organisation); it has an ``email`` property.
DJSTRIPE_SUBSCRIBER_MODEL = "teams.Organisation"
DJSTRIPE_WEBHOOK_TOLERANCE = STRIPE_WEBHOOK_TOLERANCE
# Card payments, top-ups and the payment links on invoices: on exactly when a Stripe key is configured.
BILLING_PAYMENTS_ENABLED = bool(STRIPE_SECRET_KEY)

# The seller printed on invoices: an Estonian company (VAT: Estonian rules, OSS for EU consumers).
BILLING_SELLER = {
    "name": env.str("BILLING_SELLER_NAME", default="VMCloud OÜ"),
    "address": env.str("BILLING_SELLER_ADDRESS", default="Narva mnt 5, 10117 Tallinn, Estonia"),
    "country": "EE",
    "vat_id": env.str("BILLING_SELLER_VAT_ID", default="EE102345678"),
    "registry_code": env.str("BILLING_SELLER_REGISTRY_CODE", default="16123456"),
    "email": env.str("BILLING_SELLER_EMAIL", default="billing@vmcloud.example"),
    # Bank transfers (the way to pay while Stripe is off); printed on every invoice.
    "bank": env.str("BILLING_SELLER_BANK", default="LHV Pank, Tartu mnt 2, 10145 Tallinn"),
    "iban": env.str("BILLING_SELLER_IBAN", default="EE38 2200 2210 2014 5685"),
    "bic": env.str("BILLING_SELLER_BIC", default="LHVBEE22"),
}
# A prepaid top-up paid through Stripe stays usable this long (days).
BILLING_PREPAID_TOPUP_EXPIRY_DAYS = env.int("BILLING_PREPAID_TOPUP_EXPIRY_DAYS", default=730)
# Budget alert webhooks go to public https URLs only; plain http to loopback is for development and tests.
BILLING_BUDGET_WEBHOOK_ALLOW_LOOPBACK = env.bool("BILLING_BUDGET_WEBHOOK_ALLOW_LOOPBACK", default=DEBUG)
# Document numbers: <prefix>-<year>-<six-digit sequence>, one sequence per year (invoices, credit notes).
BILLING_INVOICE_PREFIX = env.str("BILLING_INVOICE_PREFIX", default="VMC")
BILLING_CREDIT_NOTE_PREFIX = env.str("BILLING_CREDIT_NOTE_PREFIX", default="VMC-CN")  # same shape, own sequence
# Snapshot storage is billed per GB at this catalogue offer's price (the seed's block storage "Starter").
BILLING_SNAPSHOT_OFFER_CODE = env.str("BILLING_SNAPSHOT_OFFER_CODE", default="STORAGE-SSD")
# Dunning defaults; staff edit the live values in the admin (Dunning policy).
BILLING_DUNNING_REMINDER_DAYS = [1, 3, 7]  # days past the due date a reminder goes out
BILLING_DUNNING_SUSPEND_AFTER_DAYS = env.int("BILLING_DUNNING_SUSPEND_AFTER_DAYS", default=14)  # days overdue
BILLING_DUNNING_TERMINATE_AFTER_DAYS = env.int("BILLING_DUNNING_TERMINATE_AFTER_DAYS", default=30)  # days overdue

# ---------------------------------------------------------------------------
# Logging: one line per record, with the request id where there is one.
# ---------------------------------------------------------------------------
# LOG_FORMAT=json: one JSON object per line with request id, user, organisation,
# Celery task and Proxmox UPID (apps/core/logging.py); the image's default.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.core.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "apps.core.logging.JsonFormatter", "timestamp": True},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}

FORMS_URLFIELD_ASSUME_HTTPS = True

# ---------------------------------------------------------------------------
# Metrics (apps/core/metrics.py, apps/docs/content/production.md "Metrics"):
# django-prometheus times every request and database query; /metrics answers
# a Bearer METRICS_TOKEN (Prometheus) or a staff session. Docs:
# https://github.com/korfuri/django-prometheus
# ---------------------------------------------------------------------------
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_COLLECTORS = ["config.metrics.PlatformCollector"]  # dotted paths of extra prometheus_client collectors
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    *MIDDLEWARE,
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# After the request id, so log lines carry the user and organisation once known.
MIDDLEWARE.insert(
    MIDDLEWARE.index("apps.core.middleware.RequestIdMiddleware") + 1, "apps.core.logging.LogContextMiddleware"
)
_PROMETHEUS_ENGINES = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}
DATABASES["default"]["ENGINE"] = _PROMETHEUS_ENGINES.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])

# ---------------------------------------------------------------------------
# Private networks (apps/networks, issue 13; apps/docs/content/networks.md).
# A customer's range must be RFC 1918 and must not overlap the platform's own
# ranges below (management, storage and Proxmox cluster networks, the SDN
# underlay), nor any IP pool of the datacentre. NETWORKS_DEFAULT_QUOTAS applies
# when an organisation has no NetworkQuota row (staff edit it in the back office).
# ---------------------------------------------------------------------------
NETWORKS_PLATFORM_RANGES = env.list("NETWORKS_PLATFORM_RANGES", default=["10.255.0.0/16", "172.31.0.0/16"])
# Networks per organisation without a NetworkQuota row (live networks, deleted ones not counted).
NETWORKS_DEFAULT_QUOTAS = {"max_networks": env.int("NETWORKS_MAX_PER_ORGANISATION", default=5)}
NETWORKS_MAX_SUBNETS = 10  # subnets per network
NETWORKS_MAX_ATTACHMENTS_PER_SERVER = 7  # net1..net7 (net0 is the public interface)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(  # type: ignore[attr-defined]
    {
        "NetworkStatusEnum": "apps.networks.choices.NetworkStatus",
        "NetworkAttachmentStatusEnum": "apps.networks.choices.AttachmentStatus",
    }
)

# ---------------------------------------------------------------------------
# Floating IPs (apps/floating_ips, issue 13; apps/docs/content/floating-ips.md).
# Addresses come from the datacentre's IPv4 IP pools (apps.infrastructure IpPool).
# FLOATING_IPS_ROUTING_BACKEND is the dotted path of the class that points an
# address at a server (apps/floating_ips/routing/__init__.py states the contract):
# the default "table" backend only records routes (FloatingIpRoute), for `make run`,
# tests and demos; production points it at a backend for the operator's router
# (static routes or BGP). FLOATING_IPS_OFFER_CODE names the catalogue's add-on
# offer that prices one floating IP (staff set its price in the back office).
# FLOATING_IPS_DEFAULT_QUOTAS applies when an organisation has no FloatingIpQuota row.
# ---------------------------------------------------------------------------
FLOATING_IPS_ROUTING_BACKEND = env.str(
    "FLOATING_IPS_ROUTING_BACKEND", default="apps.floating_ips.routing.table.TableRoutingBackend"
)
# The catalogue Offer.code of the add-on that prices one floating IP (created by floating_ips migration 0002).
FLOATING_IPS_OFFER_CODE = "FLOATING-IPV4"
# Floating IPs an organisation may hold (count) when staff set no FloatingIpQuota.
FLOATING_IPS_DEFAULT_QUOTAS = {"max_floating_ips": env.int("FLOATING_IPS_MAX_PER_ORGANISATION", default=5)}

# ---------------------------------------------------------------------------
# Managed services (apps.managed, issue 14; apps/docs/content/service-backends.md):
# MANAGED_DEFAULT_QUOTAS applies when an organisation has no ManagedServiceQuota row.
# ---------------------------------------------------------------------------
MANAGED_DEFAULT_QUOTAS = {"max_services": env.int("MANAGED_QUOTA_MAX_SERVICES", default=20)}

# ---------------------------------------------------------------------------
# Load balancers (apps.loadbalancers, issue 14; apps/docs/content/load-balancer-engine.md, "The resource").
# ---------------------------------------------------------------------------
# The size of each load balancer's VM: a VPS offer code.
LOADBALANCERS_VM_OFFER = env.str("LOADBALANCERS_VM_OFFER", default="VPS-NANO")
# The catalogue image slug the VM is cloned from: its templates must ship haproxy and qemu-guest-agent.
LOADBALANCERS_VM_IMAGE = env.str("LOADBALANCERS_VM_IMAGE", default="debian-12")
# The platform's own organisation (slug, created on first use) that owns the VMs, so they are never in a
# customer's server list, quota or bill.
LOADBALANCERS_PLATFORM_ORGANISATION = env.str("LOADBALANCERS_PLATFORM_ORGANISATION", default="platform-load-balancers")

# ---------------------------------------------------------------------------
# Firewalls (apps/firewalls, issue 13; apps/docs/content/firewalls.md).
# FIREWALLS_DEFAULT_QUOTAS applies when an organisation has no FirewallQuota row
# (staff edit it in the back office); rules per firewall never exceed the
# platform's limit of 50 (apps.firewalls.rules.MAX_RULES).
# FIREWALLS_RECONCILE_SECONDS: period of the reconciliation task (label selectors
# against servers' current labels, VM drift, clusters' datacentre firewall).
# ---------------------------------------------------------------------------
FIREWALLS_DEFAULT_QUOTAS = {
    "max_firewalls": env.int("FIREWALLS_QUOTA_MAX_FIREWALLS", default=20),
    "max_rules_per_firewall": env.int("FIREWALLS_QUOTA_MAX_RULES", default=50),
}
FIREWALLS_RECONCILE_SECONDS = env.int("FIREWALLS_RECONCILE_SECONDS", default=300)
# Re-match label selectors, flag VM drift, check each cluster's firewall switch (apps.firewalls).
CELERY_BEAT_SCHEDULE["firewalls-reconcile"] = {
    "task": firewalls_tasks.RECONCILE,
    "schedule": float(FIREWALLS_RECONCILE_SECONDS),
}
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(  # type: ignore[attr-defined]  # a dict, typed object by the literal above
    {
        "FirewallApplyToTypeEnum": "apps.firewalls.choices.ApplyToType",
        "FirewallMemberStatusEnum": "apps.firewalls.choices.MemberStatus",
        "FirewallStatusEnum": "apps.firewalls.choices.FirewallStatus",
        "FirewallRuleDirectionEnum": "apps.firewalls.choices.Direction",
        "FirewallRuleProtocolEnum": "apps.firewalls.choices.Protocol",
    }
)

# ---------------------------------------------------------------------------
# Monitoring alerts (apps.alerts, issue 16; apps/docs/content/alerts.md).
# Policies per organisation (409 quota_exceeded past it); alert webhooks go to
# public https URLs only, plain http to loopback for development and tests.
# ---------------------------------------------------------------------------
# Alert policies an organisation may have (a count).
ALERTS_MAX_POLICIES_PER_ORGANISATION = env.int("ALERTS_MAX_POLICIES_PER_ORGANISATION", default=50)
# Alert webhooks may use plain http to the loopback interface (development and tests only).
ALERTS_WEBHOOK_ALLOW_LOOPBACK = env.bool("ALERTS_WEBHOOK_ALLOW_LOOPBACK", default=DEBUG)
# Evaluate alert policies on the servers' metrics every minute (apps.alerts).
CELERY_BEAT_SCHEDULE["alerts-evaluate"] = {"task": alerts_tasks.EVALUATE, "schedule": 60.0}
CELERY_TASK_ROUTES[alerts_tasks.WEBHOOK_SEND] = {"queue": "notifications"}
