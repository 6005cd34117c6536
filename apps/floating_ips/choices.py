"""Statuses of floating IPs, shared by models, API and admin."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FloatingIpStatus(models.TextChoices):
    AVAILABLE = "available", _("Unassigned")
    ASSIGNING = "assigning", _("Assigning")
    ASSIGNED = "assigned", _("Assigned")
    UNASSIGNING = "unassigning", _("Unassigning")
    RELEASING = "releasing", _("Releasing")
    RELEASED = "released", _("Released")
    ERROR = "error", _("Error")


S = FloatingIpStatus
# A floating IP in one of these is not being changed: an assign, unassign or release may start.
SETTLED_STATUSES = (S.AVAILABLE, S.ASSIGNED, S.ERROR)
# The address is (or is about to be) routed to ``server``.
ROUTED_STATUSES = (S.ASSIGNING, S.ASSIGNED)
