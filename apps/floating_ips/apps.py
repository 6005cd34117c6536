"""App config for apps.floating_ips."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FloatingIpsConfig(AppConfig):
    name = "apps.floating_ips"
    verbose_name = _("Floating IPs")
