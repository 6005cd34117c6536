"""Settings of the instance list benchmark: the test settings on the bench database, plus a bare JSON view's URL.

Only ``benchmarks/instance_list_bench.py`` uses this module (gunicorn gets it
through DJANGO_SETTINGS_MODULE); production URLs never include the bare view.
"""

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES

BENCH_DB = "test_vmcloud_listbench"
DATABASES["default"]["NAME"] = BENCH_DB
DATABASES["default"]["CONN_MAX_AGE"] = 60  # gunicorn sync workers: keep the connection between requests
ROOT_URLCONF = "benchmarks.listbench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# The rate limits stay on (their Redis counters are part of every request's cost) but never bite here.
API_RATE_LIMITS = {"token": (10**9, 60), "user": (10**9, 60), "anonymous": (10**9, 60)}
