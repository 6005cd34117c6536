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
# The cloud stack (servers, volumes, a load balancer) on the Proxmox simulator, whose tasks take no time:
# poll them quickly, and let one organisation order every server of the stack twice (Terraform, then the SDK).
ORDERS_DEFAULT_QUOTAS = {**ORDERS_DEFAULT_QUOTAS, "max_instances": 1000}  # noqa: F405
INSTANCES_DRIVER_OPTIONS = {"task_poll_interval": 0.01, "retries": 2, "backoff_base": 0.01, "backoff_cap": 0.05}
INSTANCES_GUEST_AGENT_WAIT_SECONDS = 5
