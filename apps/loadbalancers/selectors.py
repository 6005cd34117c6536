"""Reads of load balancers: the row of a service, its targets resolved to servers, its engine spec.

Targets are resolved in the service's organisation: servers named by id, and servers whose
labels match a selector, that are running or stopped (a server being deleted, deleted or in
error is left out: it leaves the pool). Each target is named by the server's id in HAProxy's
configuration, so its health reads back per server.

A target is addressed over a private network when it shares one with the load balancer's VM
(both cards attached, apps/docs/content/load-balancers.md "Targets on a private network"),
by its public IPv4 otherwise. ``networks_wanted`` names the networks the VM should be on: those
of the datacentre (and the VM's cluster) that a target's card is attached to.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from apps.core.actors import Actor
from apps.core.labels import label_selector_parse, label_selector_q
from apps.infrastructure.rules import crypto
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.loadbalancers.models import Certificate, LoadBalancer
from apps.loadbalancers.rules.delivery import CertificateFile, certificate_path
from apps.loadbalancers.rules.spec import (
    CATALOGUE_NAMES,
    MAX_CONNECTIONS,
    ForwardingRule,
    HealthCheck,
    HealthCheckProtocol,
    Limits,
    LoadBalancerSpec,
    StickySessions,
    Target,
    Tls,
    TlsMode,
)
from apps.managed import selectors as managed_selectors
from apps.networks.choices import AttachmentStatus, NetworkStatus
from apps.networks.models import Attachment, Network
from apps.teams.choices import Permission

# Servers that can take traffic (or will again): the others leave the pool.
TARGET_STATUSES = (
    InstanceStatus.RUNNING,
    InstanceStatus.STOPPED,
    InstanceStatus.REBOOTING,
    InstanceStatus.RESIZING,
    InstanceStatus.REBUILDING,
)


@dataclass(frozen=True)
class ResolvedTarget:
    id: str
    name: str
    address: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "address": self.address}


def lb_get(*, actor: Actor, public_id: Any, permission: Permission = Permission.RESOURCES_READ) -> LoadBalancer:
    """The load balancer of the service ``public_id`` the actor may see (NotFound otherwise)."""
    service = managed_selectors.service_get(actor=actor, public_id=public_id, permission=permission)
    return LoadBalancer.objects.select_related("service", "service__offer", "instance", "certificate").get(
        service=service
    )


def lb_for_service(*, service_id: int) -> LoadBalancer | None:
    return (
        LoadBalancer.objects.select_related("service", "service__offer", "instance", "certificate", "datacentre")
        .filter(service_id=service_id)
        .first()
    )


def targets_resolve(lb: LoadBalancer) -> list[ResolvedTarget]:
    """The servers the load balancer's targets name now, by server id (sorted: a stable configuration)."""
    ids: list[uuid.UUID] = []
    q = Q(pk__in=[])
    for target in lb.targets or []:
        if target.get("kind") == "server":
            try:
                ids.append(uuid.UUID(str(target.get("id"))))
            except ValueError:
                continue
        elif target.get("kind") == "label_selector":
            try:
                q |= label_selector_q(label_selector_parse(str(target.get("label_selector") or "")))
            except ValueError:
                continue
    if ids:
        q |= Q(public_id__in=ids)
    rows = list(
        Instance.objects.filter(q)
        .filter(organisation_id=lb.service.organisation_id, status__in=TARGET_STATUSES)
        .exclude(ipv4__isnull=True)
        .order_by("public_id")
        .values_list("pk", "public_id", "name", "ipv4")
    )
    private = _private_addresses(lb, [pk for pk, *_rest in rows])
    return [ResolvedTarget(str(pid), name, private.get(pk, str(ip))) for pk, pid, name, ip in rows]


def _private_addresses(lb: LoadBalancer, instance_ids: list[int]) -> dict[int, str]:
    """Each target's address on a network the load balancer's VM is attached to (the oldest such network)."""
    if lb.instance_id is None or not instance_ids:
        return {}
    joined = list(
        Attachment.objects.filter(instance_id=lb.instance_id, status=AttachmentStatus.ATTACHED).values_list(
            "network_id", flat=True
        )
    )
    if not joined:
        return {}
    found: dict[int, str] = {}
    cards = (
        Attachment.objects.filter(
            instance_id__in=instance_ids,
            network_id__in=joined,
            status=AttachmentStatus.ATTACHED,
            network__status=NetworkStatus.AVAILABLE,
        )
        .order_by("network_id")
        .values_list("instance_id", "address")
    )
    for instance_id, address in cards:
        found.setdefault(instance_id, str(address))
    return found


def networks_wanted(lb: LoadBalancer) -> list[Network]:
    """The networks the load balancer's VM should be on: a target's card is attached to each (module docstring)."""
    if lb.instance_id is None:
        return []
    vm = Instance.objects.filter(pk=lb.instance_id).values_list("cluster_id", flat=True).first()
    ids = [uuid.UUID(t.id) for t in targets_resolve(lb)]
    if vm is None or not ids:
        return []
    return list(
        Network.objects.filter(
            organisation_id=lb.service.organisation_id,
            datacentre_id=lb.datacentre_id,
            cluster_id=vm,
            status=NetworkStatus.AVAILABLE,
            attachments__instance__public_id__in=ids,
            attachments__status=AttachmentStatus.ATTACHED,
        )
        .distinct()
        .order_by("pk")
    )


def lb_cards(lb: LoadBalancer) -> list[Attachment]:
    """The load balancer VM's live cards on customer networks (attaching, attached or detaching)."""
    if lb.instance_id is None:
        return []
    return list(
        Attachment.objects.filter(instance_id=lb.instance_id)
        .exclude(status=AttachmentStatus.DETACHED)
        .select_related("network", "subnet")
        .order_by("nic_index")
    )


def _rules(lb: LoadBalancer) -> tuple[ForwardingRule, ...]:
    return tuple(
        ForwardingRule(
            CATALOGUE_NAMES[str(r["protocol"])],
            int(r["port"]),
            CATALOGUE_NAMES[str(r.get("target_protocol") or r["protocol"])],
            int(r.get("target_port") or r["port"]),
        )
        for r in lb.rules or []
    )


def _health(data: dict[str, Any]) -> HealthCheck:
    base = HealthCheck()
    return HealthCheck(
        protocol=HealthCheckProtocol(str(data.get("protocol") or base.protocol)),
        port=data.get("port"),
        path=str(data.get("path") or base.path),
        host=str(data.get("host") or ""),
        interval_seconds=int(data.get("interval_seconds") or base.interval_seconds),
        timeout_seconds=int(data.get("timeout_seconds") or base.timeout_seconds),
        rise=int(data.get("rise") or base.rise),
        fall=int(data.get("fall") or base.fall),
    )


def certificate_file(certificate: Certificate | None) -> CertificateFile | None:
    """Where the bundle lives on the VM, and the bundle (with the decrypted key): only for the apply."""
    if certificate is None:
        return None
    key = crypto.decrypt(certificate.private_key_encrypted)
    bundle = certificate.certificate_pem.rstrip("\n") + "\n"
    if certificate.chain_pem.strip():
        bundle += certificate.chain_pem.strip("\n") + "\n"
    bundle += key.strip("\n") + "\n"
    return CertificateFile(certificate_path(certificate.fingerprint_sha256), bundle)


def lb_spec(
    lb: LoadBalancer,
    *,
    targets: list[ResolvedTarget] | None = None,
    rules: Any = None,
    health_check: Any = None,
    sticky_sessions: Any = ...,
    redirect_http_to_https: bool | None = None,
    tls_mode: str | None = None,
    proxy_protocol: bool | None = None,
    certificate: Certificate | None = ...,  # type: ignore[assignment]
) -> LoadBalancerSpec:
    """The engine's spec of ``lb`` (keyword arguments override a field: a change is checked before it is saved).

    ``KeyError``/``ValueError`` on data the services never store (unknown protocol names).
    """
    resolved = targets_resolve(lb) if targets is None else targets
    rules_data = lb.rules if rules is None else rules
    sticky = lb.sticky_sessions if sticky_sessions is ... else sticky_sessions
    mode = lb.tls_mode if tls_mode is None else tls_mode
    cert = lb.certificate if certificate is ... else certificate
    tls: Tls | None = None
    if mode == TlsMode.TERMINATE:
        tls = Tls(TlsMode.TERMINATE, certificate_path(cert.fingerprint_sha256) if cert else "")
    elif mode == TlsMode.PASSTHROUGH:
        tls = Tls(TlsMode.PASSTHROUGH)
    offer = lb.service.offer
    rps = offer.lb_requests_per_second or Limits().max_connections
    shadow = LoadBalancer(rules=rules_data)
    return LoadBalancerSpec(
        name=lb.service.name,
        rules=_rules(shadow),
        targets=tuple(Target(t.id, t.address) for t in resolved),
        health_check=_health(lb.health_check if health_check is None else health_check),
        sticky_sessions=StickySessions(**sticky) if sticky else None,
        redirect_http_to_https=lb.redirect_http_to_https if redirect_http_to_https is None else redirect_http_to_https,
        tls=tls,
        proxy_protocol=lb.proxy_protocol if proxy_protocol is None else proxy_protocol,
        limits=Limits(max_connections=min(int(rps), MAX_CONNECTIONS)),
    )


def tier_limits(lb: LoadBalancer) -> tuple[list[str], int | None]:
    """The tier's protocols (catalogue names) and backend count (None: unlimited)."""
    offer = lb.service.offer
    backends = None if offer.lb_backends_unlimited else offer.lb_backends
    return list(offer.lb_protocols or []), backends


def lb_list_all() -> Any:
    """Every load balancer, for the back office."""
    return LoadBalancer.objects.select_related("service", "service__organisation", "instance", "datacentre")
