"""App config for apps.teams."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeamsConfig(AppConfig):
    name = "apps.teams"
    verbose_name = _("Teams and access")

    def ready(self) -> None:
        # Registers the Bearer security scheme with drf-spectacular.
        from apps.teams.api import schema  # noqa: F401
