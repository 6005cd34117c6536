"""WSGI entry point (gunicorn config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from config import otel

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()
# Tracing only when the OTLP variables are set (config/otel.py); each gunicorn worker sets up its own exporter.
otel.setup("vmcloud-web")
