"""App config for apps.sso."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SsoConfig(AppConfig):
    name = "apps.sso"
    verbose_name = _("Single sign-on")

    def ready(self) -> None:
        from apps.accounts.signals import user_deletion_requested
        from apps.sso import receivers

        user_deletion_requested.connect(receivers.block_or_prepare_user_deletion, dispatch_uid="sso.user_deletion")
