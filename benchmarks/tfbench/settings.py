"""Settings of the Terraform benchmark: the test settings on a throwaway database of its own.

Only ``benchmarks/terraform_bench.py`` uses this module (gunicorn gets it through
DJANGO_SETTINGS_MODULE).
"""

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES

BENCH_DB = "test_vmcloud_tfbench"
DATABASES["default"]["NAME"] = BENCH_DB
DATABASES["default"]["CONN_MAX_AGE"] = 60
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
API_RATE_LIMITS = {"token": (10**9, 60), "user": (10**9, 60), "anonymous": (10**9, 60)}
