"""Applying a configuration to the load balancer's VM: the runner, its networks, its health, staff's apply again.

``lb_apply`` is the runner (``tasks.apply``): it claims the row with a conditional UPDATE
(``apply_task`` empty, ours, or its lease expired; something left to apply), renders the
configuration of the newest generation, runs ``rules.delivery.agent_plan`` through the Proxmox
driver (each ``FileWrite`` an ``agent_file_write``, each ``Exec`` an ``agent_exec`` then
``agent_exec_wait``; the first failure stops it, ``on_failure`` cleans up, the running
configuration stays), records what it applied, releases the claim and looks again: a change
committed meanwhile is applied by the same run (or by the task that then claims it), so every
generation is applied at most once and the last one always is.

HTTPS rules that terminate TLS wait for a certificate: until one is uploaded they are left out
of the configuration (and the redirect with them, ``render_spec``). The service becomes active
once its VM runs and HAProxy answers (``apps.managed.services.service_deliver``).
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.actors import Actor
from apps.core.errors import Conflict, ValidationFailed
from apps.infrastructure.proxmox.errors import ProxmoxError, ProxmoxTransientError
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.instances.services.access import instance_driver
from apps.loadbalancers import selectors
from apps.loadbalancers.models import LoadBalancer
from apps.loadbalancers.rules.delivery import Exec, FileWrite, PrivateCard, agent_plan, runtime_read
from apps.loadbalancers.rules.haproxy import haproxy_config_render
from apps.loadbalancers.rules.health import Health, health_from_show_stat, target_health
from apps.loadbalancers.rules.spec import LoadBalancerSpec, Protocol, TlsMode, spec_check_tier
from apps.loadbalancers.services.changes import _changed, _lock
from apps.managed import services as managed_services
from apps.managed.choices import ENDED_STATES, ServiceState
from apps.managed.models import ManagedService
from apps.networks import services as network_services
from apps.networks.choices import AttachmentStatus

logger = logging.getLogger(__name__)


APPLY_LEASE = timedelta(minutes=15)
TERMINATING = (Protocol.HTTPS, Protocol.HTTP3)


def render_spec(lb: LoadBalancer, spec: LoadBalancerSpec) -> LoadBalancerSpec:
    """``spec`` as it can run now: rules that terminate TLS wait for a certificate (left out until uploaded)."""
    if spec.tls is None or spec.tls.mode != TlsMode.TERMINATE or spec.tls.certificate_path:
        return spec
    rules = tuple(r for r in spec.rules if r.entry_protocol not in TERMINATING)
    return replace(spec, rules=rules, tls=None, redirect_http_to_https=False)


class ApplyFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _run_exec(driver: Any, instance: Instance, step: Exec) -> Any:
    pid = driver.agent_exec(instance.node_name, instance.vmid, list(step.command))
    return driver.agent_exec_wait(instance.node_name, instance.vmid, pid, timeout=step.timeout_seconds)


def plan_run(driver: Any, instance: Instance, plan: Any) -> Exec | None:
    """Run the plan's steps on the VM; the failed step (after ``on_failure``), or None when every step succeeded."""
    for step in plan.steps:
        if isinstance(step, FileWrite):
            driver.agent_file_write(instance.node_name, instance.vmid, step.path, step.content)
            continue
        status = _run_exec(driver, instance, step)
        if status.exitcode != 0:
            for undo in plan.on_failure:
                try:
                    _run_exec(driver, instance, undo)
                except ProxmoxError:  # best effort: the next plan writes the same names again
                    logger.warning("load balancer VM %s: clean-up failed", instance.pk)
            return step
    return None


def _claim(lb_id: int, task_id: str) -> bool:
    # Only the row's own columns in the UPDATE: a join would make Django filter by ``id IN (subquery)``, which
    # PostgreSQL does not re-check after waiting on a concurrent claim's row lock (both would claim).
    if LoadBalancer.objects.filter(pk=lb_id, service__state__in=ENDED_STATES).exists():
        return False
    stale = timezone.now() - APPLY_LEASE
    return bool(
        LoadBalancer.objects.filter(pk=lb_id, applied_generation__lt=F("config_generation"))
        .filter(Q(apply_task="") | Q(apply_task=task_id) | Q(apply_claimed_at__lt=stale))
        .update(apply_task=task_id, apply_claimed_at=timezone.now())
    )


def _endpoints(lb: LoadBalancer, instance: Instance) -> dict[str, list[str]]:
    urls = []
    for rule in lb.rules or []:
        scheme = {"HTTP": "http", "HTTPS": "https", "WebSocket": "ws", "gRPC": "grpc"}.get(rule["protocol"], "tcp")
        urls.append(f"{scheme}://{instance.ipv4}:{rule['port']}")
    return {"urls": urls, "hostnames": [str(a) for a in (instance.ipv4, instance.ipv6) if a]}


def _cards(driver: Any, lb: LoadBalancer, instance: Instance) -> list[PrivateCard]:
    """The VM's attached private cards as the guest names them (matched by MAC, ``agent/network-get-interfaces``)."""
    attached = [c for c in selectors.lb_cards(lb) if c.status == AttachmentStatus.ATTACHED and c.subnet is not None]
    if not attached:
        return []
    options = dict(driver.config(instance.node_name, instance.vmid).options)
    names = {i.mac.lower(): i.name for i in driver.guest_network(instance.node_name, instance.vmid)}
    cards = []
    for card in attached:
        # netN is "<model>=<MAC>,bridge=…" (https://pve.proxmox.com/pve-docs/qm.1.html, "Network Device").
        mac = str(options.get(f"net{card.nic_index}", "")).split(",", 1)[0].partition("=")[2].lower()
        if not mac or mac not in names:
            raise ApplyFailed("private_card_missing", f"net{card.nic_index} ({mac or 'absent'}) not seen by the guest")
        cards.append(PrivateCard(names[mac], f"{card.address}/{card.subnet.block.prefixlen}"))  # type: ignore[union-attr]
    return cards


def _apply_once(lb: LoadBalancer, instance: Instance) -> None:
    generation = lb.config_generation
    resolved = selectors.targets_resolve(lb)
    spec = render_spec(lb, selectors.lb_spec(lb, targets=resolved))
    try:
        config = haproxy_config_render(spec)
        protocols, backends = selectors.tier_limits(lb)
        spec_check_tier(spec, protocols=protocols, max_targets=backends)
    except ValidationFailed as exc:
        raise ApplyFailed("invalid", f"{exc.message} {exc.fields}") from exc
    certificate = selectors.certificate_file(lb.certificate) if spec.tls and spec.tls.certificate_path else None
    driver = instance_driver(instance.cluster)  # type: ignore[arg-type]
    cards = _cards(driver, lb, instance)
    failed = plan_run(driver, instance, agent_plan(config=config, certificate=certificate, cards=cards))
    if failed is not None:
        raise ApplyFailed(failed.failure_code, failed.description)
    LoadBalancer.objects.filter(pk=lb.pk, applied_generation__lt=generation).update(
        applied_generation=generation,
        applied_config=config,
        applied_at=timezone.now(),
        applied_targets=[t.as_dict() for t in resolved],
        apply_error="",
    )


def _activate_if_provisioning(lb: LoadBalancer, instance: Instance) -> None:
    """The service becomes active once its VM runs and HAProxy answers (``systemctl is-active haproxy``)."""
    service = ManagedService.objects.get(pk=lb.service_id)
    if service.state != ServiceState.PROVISIONING:
        return
    driver = instance_driver(instance.cluster)  # type: ignore[arg-type]
    status = _run_exec(driver, instance, Exec(("/usr/bin/systemctl", "is-active", "haproxy"), "is HAProxy running"))
    if status.exitcode != 0:
        raise ApplyFailed("haproxy_inactive", _("HAProxy is not running on the load balancer's VM."))
    try:
        managed_services.service_deliver(service=service, actor=None, endpoints=_endpoints(lb, instance))
    except Conflict:  # cancelled meanwhile
        return


def lb_apply(*, lb_id: int, task_id: str) -> str:
    """Apply the newest configuration to the VM (module docstring). Returns what happened, for the task's log.

    ``ProxmoxTransientError`` propagates (the task retries); other failures are recorded in ``apply_error``.
    """
    outcome = "skipped"
    while _claim(lb_id, task_id):
        try:
            lb = LoadBalancer.objects.select_related("service", "service__offer", "certificate").get(pk=lb_id)
            instance = (
                Instance.objects.filter(pk=lb.instance_id).select_related("cluster").first() if lb.instance_id else None
            )
            if instance is None or instance.status != InstanceStatus.RUNNING:
                return "waiting_for_vm"  # the VM's "running" re-enqueues the apply
            try:
                _apply_once(lb, instance)
                _activate_if_provisioning(lb, instance)
                lb_networks_sync(lb=lb)
                outcome = "applied"
            except ApplyFailed as exc:
                LoadBalancer.objects.filter(pk=lb_id).update(apply_error=f"{exc.code}: {exc}"[:2000])
                logger.warning("load balancer %s: apply failed: %s", lb_id, exc)
                return "failed"
            except ProxmoxError as exc:
                if isinstance(exc, ProxmoxTransientError):
                    raise
                LoadBalancer.objects.filter(pk=lb_id).update(apply_error=f"proxmox: {exc}"[:2000])
                return "failed"
        finally:
            LoadBalancer.objects.filter(pk=lb_id, apply_task=task_id).update(apply_task="")
    return outcome


def lb_networks_sync(*, lb: LoadBalancer) -> dict[str, int]:
    """Put the VM on the networks its targets are on, and take it off those no target uses any more.

    Through the networks app's own attach and detach (IPAM: the next free address of the subnet, the
    card's slot; an action each, apps/docs/content/networks.md), by the platform. A card leaves only
    once the applied configuration names no address of its network. The configuration uses a private
    address once the card is attached (``server_network_changed`` → ``following.lb_on_server_changed``).
    """
    instance = Instance.objects.filter(pk=lb.instance_id).first() if lb.instance_id else None
    if instance is None or instance.status not in (InstanceStatus.RUNNING, InstanceStatus.STOPPED):
        return {"attached": 0, "detached": 0}
    lb = LoadBalancer.objects.select_related("service").get(pk=lb.pk)
    if lb.service.state in ENDED_STATES:
        return {"attached": 0, "detached": 0}
    wanted = {network.pk: network for network in selectors.networks_wanted(lb)}
    cards = selectors.lb_cards(lb)
    attached = detached = 0
    for network_id, network in wanted.items():
        if any(card.network_id == network_id for card in cards):
            continue
        try:
            network_services.network_attach(actor=None, network=network, server=instance, platform_vm=True)
            attached += 1
        except (Conflict, ValidationFailed) as exc:  # full network, too many cards, a busy network: next sync
            logger.info("load balancer %s: not joining network %s: %s", lb.pk, network.pk, exc)
    applied = [t.get("address", "") for t in lb.applied_targets or []]
    for card in cards:
        if card.network_id in wanted or card.status != AttachmentStatus.ATTACHED:
            continue
        if any(_in_range(address, card.network.ip_range) for address in applied):
            continue  # the running configuration still reaches a target through it
        try:
            network_services.network_detach(actor=None, network=card.network, server=instance)
            detached += 1
        except Conflict as exc:
            logger.info("load balancer %s: not leaving network %s: %s", lb.pk, card.network_id, exc)
    return {"attached": attached, "detached": detached}


def _in_range(address: str, ip_range: str) -> bool:
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(ip_range)
    except ValueError:
        return False


def lb_health_read(*, lb_id: int) -> dict[str, str]:
    """Read each target's health from HAProxy on the VM; "unknown" for all when it cannot be read."""
    lb = LoadBalancer.objects.select_related("instance", "instance__cluster").get(pk=lb_id)
    names = [t["id"] for t in lb.applied_targets or []]
    health = dict.fromkeys(names, Health.UNKNOWN.value)
    instance = lb.instance
    if instance is not None and instance.status == InstanceStatus.RUNNING and instance.cluster is not None:
        try:
            status = _run_exec(instance_driver(instance.cluster), instance, runtime_read("show stat"))
            if status.exitcode == 0:
                rows = health_from_show_stat(status.stdout.decode("utf-8", "replace"))
                health = {k: v.value for k, v in target_health(rows, names).items()}
        except ProxmoxError as exc:
            logger.info("load balancer %s: health not readable: %s", lb_id, exc)
    LoadBalancer.objects.filter(pk=lb_id).update(target_health=health, health_read_at=timezone.now())
    return health


def lb_apply_again(*, load_balancer: LoadBalancer, actor: Actor) -> None:
    """Staff: apply the current configuration again (after a failure fixed on the platform's side); audited."""
    managed_services.service_authorise(actor, load_balancer.service)
    with transaction.atomic():
        locked = _lock(load_balancer)
        _changed(locked, actor=actor, action="loadbalancers.apply_again", changes={}, fields=[])
