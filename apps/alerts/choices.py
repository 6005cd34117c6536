"""Metrics, comparisons, durations and events of alert policies, shared by models, API, portal and admin."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertMetric(models.TextChoices):
    """What a policy watches, from Proxmox ``rrddata`` (apps/docs/content/alerts.md, "Metrics and units")."""

    CPU = "cpu", _("CPU usage (%)")
    MEMORY = "memory", _("Memory usage (%)")
    DISK = "disk", _("Disk usage (%)")
    NETWORK_IN = "network_in", _("Inbound traffic (bytes/s)")
    NETWORK_OUT = "network_out", _("Outbound traffic (bytes/s)")


# The unit of each metric's threshold and values.
METRIC_UNITS = {
    AlertMetric.CPU: "%",
    AlertMetric.MEMORY: "%",
    AlertMetric.DISK: "%",
    AlertMetric.NETWORK_IN: "bytes/s",
    AlertMetric.NETWORK_OUT: "bytes/s",
}
PERCENT_METRICS = frozenset({AlertMetric.CPU, AlertMetric.MEMORY, AlertMetric.DISK})


class AlertComparison(models.TextChoices):
    ABOVE = "gt", _("is above")
    BELOW = "lt", _("is below")


class AlertDuration(models.IntegerChoices):
    """Over how many minutes the average is taken (DigitalOcean's choices up to an hour)."""

    FIVE = 5, _("5 minutes")
    TEN = 10, _("10 minutes")
    THIRTY = 30, _("30 minutes")
    SIXTY = 60, _("1 hour")


class AlertEvent(models.TextChoices):
    """What a notification says: an incident opened or resolved."""

    FIRED = "fired", _("Fired")
    RESOLVED = "resolved", _("Resolved")
