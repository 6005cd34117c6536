"""A load balancer as a resource: one ``LoadBalancer`` row per managed service of family ``load_balancer``.

The service (``apps.managed.ManagedService``) carries the customer-facing life: name, labels,
project, tier (offer), state, billing. This row carries what the platform runs: the VM
(``instance``, an ``apps.instances.Instance`` of the platform's own organisation,
``LOADBALANCERS_PLATFORM_ORGANISATION``: never in the customer's server list nor on their bill),
the forwarding rules, targets, health check, sticky sessions, redirect, TLS and PROXY protocol
(JSON checked through ``spec.spec_validate`` and ``spec.spec_check_tier`` by the services),
the certificate in use, and the configuration HAProxy last applied.

``config_generation`` counts the customer's changes; ``applied_generation`` is the one the
VM runs (``applied_config``, ``applied_at``). The apply task claims the row
(``apply_task``) so one apply runs at a time and a redelivered message is a no-op.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.catalogue.models import Datacentre
from apps.instances.models import Instance
from apps.managed.models import ManagedService


class TlsModeChoice(models.TextChoices):
    NONE = "", _("No TLS")
    TERMINATE = "terminate", _("Terminated on the load balancer")
    PASSTHROUGH = "passthrough", _("Passed through to the targets")


def _default_health_check() -> dict[str, object]:
    return {
        "protocol": "tcp",
        "port": None,
        "path": "/",
        "host": "",
        "interval_seconds": 5,
        "timeout_seconds": 3,
        "rise": 2,
        "fall": 3,
    }


class LoadBalancer(models.Model):
    """What the platform runs for one load-balancer service."""

    service = models.OneToOneField(
        ManagedService, on_delete=models.CASCADE, related_name="load_balancer", verbose_name=_("service")
    )
    datacentre = models.ForeignKey(Datacentre, on_delete=models.PROTECT, related_name="+", verbose_name=_("datacentre"))
    instance = models.ForeignKey(
        Instance,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("VM"),
        help_text=_("The platform's VM running HAProxy (in the platform's organisation)."),
    )
    # Rules as the catalogue names protocols: [{"protocol": "HTTP", "port": 80, "target_protocol": "HTTP",
    # "target_port": 8080}]; targets: [{"kind": "server", "id": "<uuid>"} | {"kind": "label_selector",
    # "label_selector": "role=web"}] (apps.managed.rules's shapes).
    rules = models.JSONField(_("forwarding rules"), default=list, blank=True)
    targets = models.JSONField(_("targets"), default=list, blank=True)
    health_check = models.JSONField(_("health check"), default=_default_health_check, blank=True)
    sticky_sessions = models.JSONField(_("sticky sessions"), null=True, blank=True)
    redirect_http_to_https = models.BooleanField(_("redirect HTTP to HTTPS"), default=False)
    tls_mode = models.CharField(_("TLS"), max_length=16, choices=TlsModeChoice.choices, default="", blank=True)
    proxy_protocol = models.BooleanField(_("PROXY protocol"), default=False)
    certificate = models.ForeignKey(
        "loadbalancers.Certificate",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("certificate in use"),
    )
    config_generation = models.PositiveIntegerField(_("configuration generation"), default=1)
    applied_generation = models.PositiveIntegerField(_("applied generation"), default=0)
    applied_config = models.TextField(_("applied configuration"), blank=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    applied_targets = models.JSONField(
        _("applied targets"), default=list, blank=True, help_text=_("[{id, name, address}] the applied config names.")
    )
    apply_task = models.CharField(_("apply task"), max_length=255, blank=True, default="")
    apply_claimed_at = models.DateTimeField(_("apply claimed at"), null=True, blank=True)
    apply_error = models.TextField(_("last apply error"), blank=True)
    target_health = models.JSONField(_("target health"), default=dict, blank=True)
    health_read_at = models.DateTimeField(_("health read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("load balancer")
        verbose_name_plural = _("load balancers")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.service.name} ({self.datacentre_id})"


class Certificate(models.Model):
    """A TLS certificate the customer uploaded (checked by ``certificates.certificate_validate``).

    The private key is stored encrypted (``apps.infrastructure.rules.crypto``); certificate and chain are public.
    """

    load_balancer = models.ForeignKey(
        LoadBalancer, on_delete=models.CASCADE, related_name="certificates", verbose_name=_("load balancer")
    )
    certificate_pem = models.TextField(_("certificate (PEM)"))
    chain_pem = models.TextField(_("chain (PEM)"), blank=True)
    private_key_encrypted = models.TextField(_("private key (encrypted)"))
    names = models.JSONField(_("names"), default=list)
    not_after = models.DateTimeField(_("expires"))
    fingerprint_sha256 = models.CharField(_("SHA-256 fingerprint"), max_length=95)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return ", ".join(self.names) or self.fingerprint_sha256[:16]
