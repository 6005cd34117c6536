"""App config for apps.managed."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ManagedConfig(AppConfig):
    name = "apps.managed"
    label = "managed"
    verbose_name = _("Managed services")
