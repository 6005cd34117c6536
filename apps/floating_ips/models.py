"""Floating IPs (issue 13, "Floating IPs"), their quotas and the routes the table backend records.

A ``FloatingIp`` is an IPv4 address of the datacentre's IP pool
(``apps.infrastructure.models.IpPool``, the pool servers get theirs from),
held by an ``IpAllocation`` row with no reservation and a note naming it, so
the pool's unique address column keeps floating and server addresses apart. It
belongs to a project and outlives the servers it is assigned to. Prices are
frozen at create from the add-on offer (``FLOATING_IPS_OFFER_CODE``;
hourly = monthly / 730).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.catalogue.models import Datacentre, Offer
from apps.core.models import TimeStampedModel
from apps.core.money import MoneyField, RateField
from apps.floating_ips import choices
from apps.infrastructure.models import IpAllocation, IpPool
from apps.instances.models import Instance
from apps.teams.models import Organisation, Project


class FloatingIp(TimeStampedModel):
    """A customer's floating IPv4 address."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="floating_ips", verbose_name=_("organisation")
    )
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="floating_ips", verbose_name=_("project")
    )
    name = models.CharField(_("name"), max_length=63)
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    datacentre = models.ForeignKey(Datacentre, on_delete=models.PROTECT, related_name="+", verbose_name=_("datacentre"))
    family = models.PositiveSmallIntegerField(_("family"), default=4)
    address = models.GenericIPAddressField(_("address"))
    pool = models.ForeignKey(IpPool, on_delete=models.PROTECT, related_name="+", verbose_name=_("IP pool"))
    allocation = models.OneToOneField(
        IpAllocation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="floating_ip",
        verbose_name=_("pool allocation"),
    )
    server = models.ForeignKey(
        Instance,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="floating_ips",
        verbose_name=_("server"),
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=choices.FloatingIpStatus.choices,
        default=choices.FloatingIpStatus.AVAILABLE,
    )
    delete_protection = models.BooleanField(_("delete protection"), default=False)
    error_message = models.CharField(_("error (customer)"), max_length=300, blank=True)
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="+", verbose_name=_("add-on offer"))
    price_hourly = RateField(_("price per hour"))
    price_monthly = MoneyField(_("price per month"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deleted_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        verbose_name = _("floating IP")
        verbose_name_plural = _("floating IPs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"],
                condition=~Q(status="released"),
                name="uniq_floating_ip_name_per_project",
            ),
            # Belt and braces next to the pool's unique IpAllocation.address: one live floating IP per address.
            models.UniqueConstraint(
                fields=["address"], condition=~Q(status="released"), name="uniq_live_floating_ip_address"
            ),
        ]
        indexes = [models.Index(fields=["organisation", "status"]), models.Index(fields=["server", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.address})"

    @property
    def holds_project(self) -> bool:
        """A released floating IP is history (teams.project_delete)."""
        return self.status != choices.FloatingIpStatus.RELEASED

    @property
    def cidr(self) -> str:
        return f"{self.address}/{32 if self.family == 4 else 128}"


class FloatingIpQuota(TimeStampedModel):
    """Floating IP limit of one organisation; blank means the default (``FLOATING_IPS_DEFAULT_QUOTAS``)."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="floating_ip_quota")
    max_floating_ips = models.PositiveIntegerField(_("max floating IPs"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("floating IP quota")
        verbose_name_plural = _("floating IP quotas")

    def __str__(self) -> str:
        return str(self.organisation)


class FloatingIpRoute(models.Model):
    """Where an address points, as the ``table`` routing backend recorded it (``routing.table``).

    One row per announced address; ``withdraw`` deletes it. The portal and the
    back office read it to show where each floating IP is routed; a production
    backend (static routes, BGP) records nothing here.
    """

    datacentre = models.CharField(_("datacentre"), max_length=32)
    address = models.GenericIPAddressField(_("address"), unique=True)
    next_hop = models.GenericIPAddressField(_("next hop"))
    announced_at = models.DateTimeField(_("announced at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("recorded route")
        verbose_name_plural = _("recorded routes")
        ordering = ["datacentre", "address"]

    def __str__(self) -> str:
        return f"{self.address} via {self.next_hop}"


class FloatingIpOffer(Offer):
    """The add-on offer that prices floating IPs, as staff see it from this app (a proxy of the catalogue's)."""

    class Meta:
        proxy = True
        verbose_name = _("floating IP price (add-on offer)")
        verbose_name_plural = _("floating IP price (add-on offer)")
