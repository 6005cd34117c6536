"""Statuses and action types of volumes, shared by models, API and admin."""

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


class VolumeActionType(models.TextChoices):
    CREATE = "create", _("Create")
    ATTACH = "attach", _("Attach")
    DETACH = "detach", _("Detach")
    RESIZE = "resize", _("Resize")
    DELETE = "delete", _("Delete")


class VolumeActionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    SUCCESS = "success", _("Success")
    ERROR = "error", _("Error")


OPEN_ACTION_STATUSES = (VolumeActionStatus.PENDING, VolumeActionStatus.RUNNING)
