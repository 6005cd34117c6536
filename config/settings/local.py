"""Settings for `make run` and local development: DEBUG on, embedded defaults.

With nothing configured this runs on SQLite, the file-system Celery broker and
the Proxmox simulator started by the Procfile.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import REST_FRAMEWORK, env

DEBUG = env.bool("DEBUG", default=True)
# Budget webhooks may reach a receiver on this machine while developing.
BILLING_BUDGET_WEBHOOK_ALLOW_LOOPBACK = env.bool("BILLING_BUDGET_WEBHOOK_ALLOW_LOOPBACK", default=DEBUG)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [
    "rest_framework.renderers.JSONRenderer",
    "rest_framework.renderers.BrowsableAPIRenderer",
]
