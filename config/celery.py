"""The Celery application.

Settings come from Django's settings under the ``CELERY_`` namespace (see
``config/settings/base.py`` for what each one is for). Tasks are discovered in
every installed app's ``tasks.py``.
Docs: https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
"""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("vmcloud")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _tracing_in_each_worker_process(**kwargs: object) -> None:
    """The exporter's thread does not survive the prefork pool's fork: start it in each child."""
    from config import otel

    otel.setup("vmcloud-worker")
