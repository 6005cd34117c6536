"""Enumerations shared by core models, the API and templates."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ActorKind(models.TextChoices):
    USER = "user", _("User")
    TOKEN = "token", _("API token")
    STAFF = "staff", _("Staff")
    SYSTEM = "system", _("System")
