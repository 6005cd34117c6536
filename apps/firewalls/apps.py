"""App config for apps.firewalls."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FirewallsConfig(AppConfig):
    name = "apps.firewalls"
    verbose_name = _("Firewalls")
