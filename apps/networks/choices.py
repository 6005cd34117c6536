"""Statuses of networks and their attachments, and the SDN zone types staff may configure."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NetworkStatus(models.TextChoices):
    CREATING = "creating", _("Creating")
    AVAILABLE = "available", _("Available")
    DELETING = "deleting", _("Deleting")
    DELETED = "deleted", _("Deleted")
    ERROR = "error", _("Error")


class AttachmentStatus(models.TextChoices):
    ATTACHING = "attaching", _("Attaching")
    ATTACHED = "attached", _("Attached")
    DETACHING = "detaching", _("Detaching")
    DETACHED = "detached", _("Detached")


class ZoneType(models.TextChoices):
    """PVE SDN zone types fit for per-customer networks (docs/dev/proxmox-behaviour.md#sdn-zones)."""

    SIMPLE = "simple", _("Simple (one node, no tag)")
    VLAN = "vlan", _("VLAN")
    QINQ = "qinq", _("QinQ")
    VXLAN = "vxlan", _("VXLAN")
    EVPN = "evpn", _("EVPN")


# An attachment holding its address and its NIC slot.
LIVE_ATTACHMENT_STATUSES = (AttachmentStatus.ATTACHING, AttachmentStatus.ATTACHED, AttachmentStatus.DETACHING)
