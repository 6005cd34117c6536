"""Settings for the test suite (`make test`): real PostgreSQL and Redis.

DATABASE_URL and REDIS_URL default to the local services on 127.0.0.1; the
Makefile starts them when they are installed but stopped. TEST_DB_SUFFIX keeps
parallel runs on one machine out of each other's databases.
"""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, env

DATABASES["default"] = env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/vmcloud")
DATABASES["default"]["TEST"] = {"NAME": f"test_vmcloud{os.environ.get('TEST_DB_SUFFIX', '')}"}
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/15")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        "KEY_PREFIX": f"vmcloud-test{os.environ.get('TEST_DB_SUFFIX', '')}-{os.getpid()}",
    }
}
# Tasks run in-process unless a test starts a real worker.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
# tests/instances/test_worker_kill.py starts real workers on Redis with kombu's unacked
# restore lowered (docs/dev/dependencies.md#celery-redis-redelivery); everyone else keeps base.py's options.
if env.str("CELERY_BROKER_TRANSPORT_OPTIONS", default=""):
    CELERY_BROKER_TRANSPORT_OPTIONS = env.json("CELERY_BROKER_TRANSPORT_OPTIONS")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; never in production
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEBUG = False
# Tests start with the GPU risk policy off, as with ORDERS_APPROVAL_GPU; tests/orders/test_gpu_risk.py turns it on.
ORDERS_GPU_RISK_POLICY = False
