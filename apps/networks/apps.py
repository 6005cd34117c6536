"""App config for apps.networks."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworksConfig(AppConfig):
    name = "apps.networks"
    verbose_name = _("Networks")
