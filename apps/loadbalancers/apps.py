"""App config for apps.loadbalancers."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoadBalancersConfig(AppConfig):
    name = "apps.loadbalancers"
    verbose_name = _("Load balancers")
