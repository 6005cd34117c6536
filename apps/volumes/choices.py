"""Statuses of volumes, shared by models, API and admin (action types and statuses: ``apps.instances.choices``)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VolumeStatus(models.TextChoices):
    CREATING = "creating", _("Creating")
    AVAILABLE = "available", _("Available")
    ATTACHING = "attaching", _("Attaching")
    IN_USE = "in_use", _("In use")
    DETACHING = "detaching", _("Detaching")
    RESIZING = "resizing", _("Resizing")
    DELETING = "deleting", _("Deleting")
    DELETED = "deleted", _("Deleted")
    ERROR = "error", _("Error")
