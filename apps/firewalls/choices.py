"""Statuses and rule vocabulary of firewalls, shared by models, API, admin and portal."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FirewallStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DELETING = "deleting", _("Deleting")
    DELETED = "deleted", _("Deleted")


class MemberStatus(models.TextChoices):
    """Where one server stands with one firewall (the firewall's per-server application status)."""

    PENDING = "pending", _("Applying")
    APPLIED = "applied", _("Applied")
    REMOVING = "removing", _("Removing")
    ERROR = "error", _("Error")


class Direction(models.TextChoices):
    IN = "in", _("Inbound")
    OUT = "out", _("Outbound")


class Protocol(models.TextChoices):
    TCP = "tcp", "TCP"
    UDP = "udp", "UDP"
    ICMP = "icmp", "ICMP"
    ESP = "esp", "ESP"
    GRE = "gre", "GRE"


class ApplyToType(models.TextChoices):
    SERVER = "server", _("Server")
    LABEL_SELECTOR = "label_selector", _("Label selector")
