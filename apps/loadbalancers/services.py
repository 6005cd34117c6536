"""Writes of load balancers: the customer's changes, the VM's life, the apply runner, targets following servers.

Customer changes (``lb_rules_set``, ``lb_targets_set``, ``lb_health_check_set``,
``lb_certificate_upload``, ``lb_settings_update``) lock the row, check the whole resulting
load balancer (``spec.spec_validate``, ``spec.spec_check_tier``, the engine's refusals),
save, bump ``config_generation``, audit, and enqueue the apply once the transaction commits.

``lb_apply`` is the runner (``tasks.apply``): it claims the row with a conditional UPDATE
(``apply_task`` empty, ours, or its lease expired; something left to apply), renders the
configuration of the newest generation, runs ``delivery.agent_plan`` through the Proxmox
driver (each ``FileWrite`` an ``agent_file_write``, each ``Exec`` an ``agent_exec`` then
``agent_exec_wait``; the first failure stops it, ``on_failure`` cleans up, the running
configuration stays), records what it applied, releases the claim and looks again: a change
committed meanwhile is applied by the same run (or by the task that then claims it), so every
generation is applied at most once and the last one always is.

HTTPS rules that terminate TLS wait for a certificate: until one is uploaded they are left out
of the configuration (and the redirect with them). The first boot's user-data carries no
certificate, so no private key ever sits in the VM's stored user-data: the apply that
activates the service writes it through the guest agent.

``LoadBalancerBackend`` is the automated backend of the ``load_balancer`` family
(``apps.managed.backends``, registered in ``apps.py``):

* ``provision``: the ``LoadBalancer`` row from the order's configuration, then its VM (the
  load-balancer template, through ``apps.instances``' provisioning chain) with the first
  configuration in its cloud-init user-data. Not done yet: the service becomes active when the
  VM runs and HAProxy answers (``services.lb_apply``, enqueued by the VM's ``running``).
* ``change`` (a tier change): the tier's limits are part of the configuration, so it is applied again.
* ``suspend`` / ``resume``: the VM is stopped / started (HAProxy starts with it).
* ``terminate``: the VM is deleted.
* ``status``: from the VM's status, never invented.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalogue.models import Offer, OsImage
from apps.core.actors import Actor
from apps.core.errors import Conflict, Unavailable, ValidationFailed
from apps.core.services import audit_record, task_enqueue
from apps.infrastructure import crypto
from apps.infrastructure import services as placement
from apps.infrastructure.proxmox.errors import ProxmoxError, ProxmoxTransientError
from apps.instances import services as instance_services
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.instances.services.access import instance_driver
from apps.loadbalancers import selectors, task_names
from apps.loadbalancers.certificates import certificate_validate
from apps.loadbalancers.delivery import Exec, FileWrite, PrivateCard, agent_plan, runtime_read, user_data_render
from apps.loadbalancers.haproxy import engine_problems, haproxy_config_render
from apps.loadbalancers.health import Health, health_from_show_stat, target_health
from apps.loadbalancers.models import Certificate, LoadBalancer, TlsModeChoice
from apps.loadbalancers.spec import (
    COOKIE_RE,
    HealthCheckProtocol,
    LoadBalancerSpec,
    Protocol,
    TlsMode,
    spec_check_tier,
    spec_problems,
)
from apps.managed import services as managed_services
from apps.managed.backends import BackendError, BackendResult, BackendStatus
from apps.managed.choices import ENDED_STATES, ServiceState
from apps.managed.models import ManagedService
from apps.managed.validation import service_config_clean
from apps.networks import services as network_services
from apps.networks.choices import AttachmentStatus
from apps.teams.models import Organisation, Project

logger = logging.getLogger(__name__)

APPLY_LEASE = timedelta(minutes=15)
TERMINATING = (Protocol.HTTPS, Protocol.HTTP3)


class LbErrorCode:
    ENDED = "load_balancer_ended"
    NOT_LOAD_BALANCER = "not_a_load_balancer"


# --- the row ---------------------------------------------------------------------------------------


def lb_ensure(*, service: ManagedService) -> LoadBalancer:
    """The service's load balancer, created from the order's configuration the first time (idempotent)."""
    existing = LoadBalancer.objects.filter(service=service).first()
    if existing is not None:
        return existing
    config = service.config or {}
    rules = list(config.get("rules") or [])
    tls = TlsModeChoice.TERMINATE if any(r.get("protocol") in ("HTTPS", "HTTP/3") for r in rules) else ""
    if service.datacentre_id is None:
        raise ValidationFailed(_("A load balancer needs a datacentre."), fields={"datacentre": [_("Required.")]})
    try:
        with transaction.atomic():
            return LoadBalancer.objects.create(
                service=service,
                datacentre_id=service.datacentre_id,
                rules=rules,
                targets=list(config.get("targets") or []),
                tls_mode=tls,
            )
    except IntegrityError:  # created meanwhile by another call
        return LoadBalancer.objects.get(service=service)


def _lock(lb: LoadBalancer) -> LoadBalancer:
    locked = (
        LoadBalancer.objects.select_for_update(no_key=True, of=("self",))
        .select_related("service", "service__offer", "certificate")
        .get(pk=lb.pk)
    )
    if locked.service.state in ENDED_STATES:
        raise Conflict(_("This load balancer has ended."), code=LbErrorCode.ENDED)
    return locked


def render_spec(lb: LoadBalancer, spec: LoadBalancerSpec) -> LoadBalancerSpec:
    """``spec`` as it can run now: rules that terminate TLS wait for a certificate (left out until uploaded)."""
    if spec.tls is None or spec.tls.mode != TlsMode.TERMINATE or spec.tls.certificate_path:
        return spec
    rules = tuple(r for r in spec.rules if r.entry_protocol not in TERMINATING)
    return replace(spec, rules=rules, tls=None, redirect_http_to_https=False)


def _check(lb: LoadBalancer, spec: LoadBalancerSpec) -> None:
    """Refuse a load balancer the engine or the tier would refuse (fields as ``spec.spec_problems``)."""
    problems = spec_problems(spec)
    if spec.tls is not None and spec.tls.mode == TlsMode.TERMINATE and not spec.tls.certificate_path:
        problems.pop("tls", None)  # HTTPS rules waiting for a certificate are allowed
    refused = engine_problems(spec)
    if refused:
        problems.setdefault("rules", []).extend(refused)
    if problems:
        raise ValidationFailed(_("The load balancer's settings are not valid."), fields=problems)
    protocols, backends = selectors.tier_limits(lb)
    spec_check_tier(spec, protocols=protocols, max_targets=backends)


def _changed(locked: LoadBalancer, *, actor: Actor, action: str, changes: dict[str, Any], fields: list[str]) -> None:
    locked.config_generation = F("config_generation") + 1
    locked.save(update_fields=[*fields, "config_generation", "updated_at"])
    locked.refresh_from_db(fields=["config_generation"])
    audit_record(
        actor=actor,
        action=action,
        target=locked.service,
        organisation_id=locked.service.organisation_id,
        changes={**changes, "generation": locked.config_generation},
    )
    task_enqueue(task_names.APPLY, locked.pk)


def _strip_service_prefix(exc: ValidationFailed) -> ValidationFailed:
    fields = {k.removeprefix("service."): v for k, v in (exc.fields or {}).items()}
    return ValidationFailed(exc.message, code=exc.code, fields=fields)


def _clean_rules_targets(lb: LoadBalancer, *, rules: Any, targets: Any) -> dict[str, Any]:
    try:
        config, _secrets = service_config_clean(offer=lb.service.offer, data={"rules": rules, "targets": targets})
    except ValidationFailed as exc:
        raise _strip_service_prefix(exc) from exc
    return config


# --- customer changes ------------------------------------------------------------------------------


def lb_rules_set(*, actor: Actor, load_balancer: LoadBalancer, rules: Sequence[Mapping[str, Any]]) -> LoadBalancer:
    """Replace the forwarding rules (catalogue protocol names, as orders take them)."""
    managed_services.service_authorise(actor, load_balancer.service)
    with transaction.atomic():
        locked = _lock(load_balancer)
        clean = _clean_rules_targets(locked, rules=list(rules), targets=locked.targets)["rules"]
        tls = locked.tls_mode
        if not tls and any(r["protocol"] in ("HTTPS", "HTTP/3") for r in clean):
            tls = TlsModeChoice.TERMINATE
        _check(locked, selectors.lb_spec(locked, rules=clean, tls_mode=tls))
        locked.rules, locked.tls_mode = clean, tls
        _changed(
            locked,
            actor=actor,
            action="loadbalancers.rules.set",
            changes={"rules": clean},
            fields=["rules", "tls_mode"],
        )
    return locked


def lb_targets_set(*, actor: Actor, load_balancer: LoadBalancer, targets: Sequence[Mapping[str, Any]]) -> LoadBalancer:
    """Replace the targets: servers by id and label selectors (resolved in the service's organisation)."""
    managed_services.service_authorise(actor, load_balancer.service)
    with transaction.atomic():
        locked = _lock(load_balancer)
        clean = _clean_rules_targets(locked, rules=locked.rules, targets=list(targets))["targets"]
        shadow = LoadBalancer(service=locked.service, targets=clean)
        _check(locked, selectors.lb_spec(locked, targets=selectors.targets_resolve(shadow)))
        locked.targets = clean
        _changed(
            locked, actor=actor, action="loadbalancers.targets.set", changes={"targets": clean}, fields=["targets"]
        )
    return locked


HEALTH_KEYS = ("protocol", "port", "path", "host", "interval_seconds", "timeout_seconds", "rise", "fall")


def _int_or_none(value: Any, field: str, errors: dict[str, list[str]]) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        errors.setdefault(field, []).append(_("Enter a whole number."))
        return None
    try:
        return int(value)
    except ValueError:
        errors.setdefault(field, []).append(_("Enter a whole number."))
        return None


def lb_health_check_set(*, actor: Actor, load_balancer: LoadBalancer, health_check: Mapping[str, Any]) -> LoadBalancer:
    """Replace the health check (protocol tcp/http/https, port, path, host, interval, timeout, rise, fall)."""
    managed_services.service_authorise(actor, load_balancer.service)
    errors: dict[str, list[str]] = {}
    for key in health_check:
        if key not in HEALTH_KEYS:
            errors.setdefault(f"health_check.{key}", []).append(_("Unknown field."))
    current = dict(load_balancer.health_check or {})
    data: dict[str, Any] = {**current, **{k: v for k, v in health_check.items() if k in HEALTH_KEYS}}
    protocol = str(data.get("protocol") or "tcp").lower()
    if protocol not in {p.value for p in HealthCheckProtocol}:
        errors.setdefault("health_check.protocol", []).append(_("Choose tcp, http or https."))
    clean: dict[str, Any] = {
        "protocol": protocol,
        "path": str(data.get("path") or "/"),
        "host": str(data.get("host") or ""),
    }
    for key in ("port", "interval_seconds", "timeout_seconds", "rise", "fall"):
        clean[key] = _int_or_none(data.get(key), f"health_check.{key}", errors)
    for key, default in (("interval_seconds", 5), ("timeout_seconds", 3), ("rise", 2), ("fall", 3)):
        clean[key] = default if clean[key] is None else clean[key]
    if errors:
        raise ValidationFailed(_("The health check is not valid."), fields=errors)
    with transaction.atomic():
        locked = _lock(load_balancer)
        _check(locked, selectors.lb_spec(locked, health_check=clean))
        locked.health_check = clean
        _changed(
            locked,
            actor=actor,
            action="loadbalancers.health_check.set",
            changes={"health_check": clean},
            fields=["health_check"],
        )
    return locked


def lb_certificate_upload(
    *, actor: Actor, load_balancer: LoadBalancer, certificate: str, chain: str, private_key: str
) -> Certificate:
    """Check the PEM certificate, chain and key; store the key encrypted; terminate TLS with it from now on."""
    managed_services.service_authorise(actor, load_balancer.service)
    checked = certificate_validate(certificate=certificate, chain=chain, private_key=private_key, now=timezone.now())
    # The bundle is certificate, chain, key: keep the key (its last PEM block) encrypted, the rest readable.
    key_at = checked.bundle.index("-----BEGIN", checked.bundle.rindex("-----END CERTIFICATE-----"))
    certs = checked.bundle[:key_at]
    first_end = certs.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----\n")
    with transaction.atomic():
        locked = _lock(load_balancer)
        row = Certificate.objects.create(
            load_balancer=locked,
            certificate_pem=certs[:first_end],
            chain_pem=certs[first_end:],
            private_key_encrypted=crypto.encrypt(checked.bundle[key_at:]),
            names=list(checked.names),
            not_after=checked.not_after,
            fingerprint_sha256=checked.fingerprint_sha256,
        )
        _check(locked, selectors.lb_spec(locked, tls_mode=TlsModeChoice.TERMINATE, certificate=row))
        locked.certificate, locked.tls_mode = row, TlsModeChoice.TERMINATE
        changes = {
            "names": list(checked.names),
            "not_after": checked.not_after.isoformat(),
            "fingerprint_sha256": checked.fingerprint_sha256,
        }
        _changed(
            locked,
            actor=actor,
            action="loadbalancers.certificate.upload",
            changes=changes,
            fields=["certificate", "tls_mode"],
        )
    return row


_UNSET: Any = object()


def lb_settings_update(
    *,
    actor: Actor,
    load_balancer: LoadBalancer,
    sticky_sessions: Mapping[str, Any] | None = _UNSET,
    redirect_http_to_https: bool | None = None,
    proxy_protocol: bool | None = None,
    tls_mode: str | None = None,
) -> LoadBalancer:
    """Sticky sessions (``None`` turns them off; ``{cookie_name, ttl_seconds}``), the redirect, PROXY, TLS mode."""
    managed_services.service_authorise(actor, load_balancer.service)
    errors: dict[str, list[str]] = {}
    sticky: dict[str, Any] | object | None = _UNSET
    if sticky_sessions is not _UNSET:
        if sticky_sessions is None:
            sticky = None
        elif isinstance(sticky_sessions, Mapping):
            cookie = str(sticky_sessions.get("cookie_name") or "LBSTICKY")
            ttl = _int_or_none(sticky_sessions.get("ttl_seconds", 3600), "sticky_sessions.ttl_seconds", errors)
            if not COOKIE_RE.match(cookie):
                errors.setdefault("sticky_sessions.cookie_name", []).append(
                    _("The cookie name is 1 to 64 letters, digits, '_' or '-'.")
                )
            sticky = {"cookie_name": cookie, "ttl_seconds": 3600 if ttl is None else ttl}
        else:
            errors.setdefault("sticky_sessions", []).append(_("Send an object, or null to turn them off."))
    if tls_mode is not None and tls_mode not in TlsModeChoice.values:
        errors.setdefault("tls_mode", []).append(_("Choose terminate or passthrough."))
    if errors:
        raise ValidationFailed(_("The settings are not valid."), fields=errors)
    with transaction.atomic():
        locked = _lock(load_balancer)
        new_sticky = locked.sticky_sessions if sticky is _UNSET else sticky
        redirect = locked.redirect_http_to_https if redirect_http_to_https is None else bool(redirect_http_to_https)
        proxy = locked.proxy_protocol if proxy_protocol is None else bool(proxy_protocol)
        mode = locked.tls_mode if tls_mode is None else tls_mode
        _check(
            locked,
            selectors.lb_spec(
                locked, sticky_sessions=new_sticky, redirect_http_to_https=redirect, proxy_protocol=proxy, tls_mode=mode
            ),
        )
        before = {
            "sticky_sessions": locked.sticky_sessions,
            "redirect_http_to_https": locked.redirect_http_to_https,
            "proxy_protocol": locked.proxy_protocol,
            "tls_mode": locked.tls_mode,
        }
        locked.sticky_sessions, locked.redirect_http_to_https = new_sticky, redirect
        locked.proxy_protocol, locked.tls_mode = proxy, mode
        after = {
            "sticky_sessions": new_sticky,
            "redirect_http_to_https": redirect,
            "proxy_protocol": proxy,
            "tls_mode": mode,
        }
        _changed(
            locked,
            actor=actor,
            action="loadbalancers.settings.update",
            changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
            fields=["sticky_sessions", "redirect_http_to_https", "proxy_protocol", "tls_mode"],
        )
    return locked


# --- the VM ----------------------------------------------------------------------------------------


def platform_project() -> Project:
    """The platform's own project that holds every load balancer's VM (created on first use)."""
    slug = settings.LOADBALANCERS_PLATFORM_ORGANISATION
    organisation, _created = Organisation.objects.get_or_create(slug=slug, defaults={"name": "Platform load balancers"})
    project = Project.objects.filter(organisation=organisation).order_by("pk").first()
    if project is None:
        project = Project.objects.create(
            organisation=organisation, name="Load balancers", slug="load-balancers", is_default=True
        )
    return project


def first_config(lb: LoadBalancer) -> str:
    """The configuration the VM boots with: everything but TLS termination (its key comes by the guest agent)."""
    spec = render_spec(lb, selectors.lb_spec(lb, certificate=None))
    return haproxy_config_render(spec)


def lb_vm_create(*, lb: LoadBalancer) -> Instance:
    """Reserve and create the load balancer's VM (idempotent: an existing one is returned)."""
    if lb.instance_id is not None:
        return Instance.objects.get(pk=lb.instance_id)
    offer = Offer.objects.get(code=settings.LOADBALANCERS_VM_OFFER)
    image = OsImage.objects.get(slug=settings.LOADBALANCERS_VM_IMAGE)
    project = platform_project()
    with transaction.atomic():
        locked = LoadBalancer.objects.select_for_update(of=("self",)).select_related("service").get(pk=lb.pk)
        if locked.instance_id is not None:
            return Instance.objects.get(pk=locked.instance_id)
        reservation = placement.placement_reserve(
            offer=offer, datacentre=locked.datacentre, image=image, holder_ref=locked.service.public_id
        )
        user_data = user_data_render(config=first_config(locked)) if reservation.cluster.has_snippets else ""
        instance, _action = instance_services.instance_create(
            organisation=project.organisation,
            project=project,
            offer=offer,
            datacentre=locked.datacentre,
            image=image,
            name=f"lb-{locked.service.public_id.hex[:12]}",
            ssh_keys=[],
            user_data=user_data,
            reservation=reservation,
            price_hourly=offer.price_hourly * 0,
            price_monthly=offer.price_monthly * 0,
            actor=None,
            labels={"platform": "load-balancer", "service": str(locked.service.public_id)},
        )
        locked.instance = instance
        locked.save(update_fields=["instance", "updated_at"])
        audit_record(
            actor=None,
            action="loadbalancers.vm.create",
            target=locked.service,
            organisation_id=locked.service.organisation_id,
            changes={"instance": str(instance.public_id), "offer": offer.code, "image": image.slug},
        )
    return instance


def lb_vm_delete(*, lb: LoadBalancer) -> None:
    """Delete the VM (gone already, or being deleted: fine)."""
    instance = Instance.objects.filter(pk=lb.instance_id).first() if lb.instance_id else None
    if instance is None or instance.status in (InstanceStatus.DELETING, InstanceStatus.DELETED):
        return
    instance_services.instance_delete(instance=instance, actor=None)


def lb_vm_power(*, lb: LoadBalancer, on: bool) -> None:
    instance = Instance.objects.filter(pk=lb.instance_id).first() if lb.instance_id else None
    if instance is None:
        return
    try:
        if on:
            instance_services.instance_start(instance=instance, actor=None)
        else:
            instance_services.instance_stop(instance=instance, actor=None)
    except Conflict:  # already in that state, or an operation runs: the state machine knows better
        logger.info("load balancer %s: power %s refused for its VM", lb.pk, on)


# --- applying a configuration ----------------------------------------------------------------------


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
    address once the card is attached (the beat's ``lb_sync_all`` notices and applies it).
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


# --- following servers -----------------------------------------------------------------------------


def lb_targets_refresh(*, lb: LoadBalancer) -> bool:
    """Queue a change when the servers the targets name differ from the applied ones; True when queued."""
    with transaction.atomic():
        locked = (
            LoadBalancer.objects.select_for_update(no_key=True, of=("self",)).select_related("service").get(pk=lb.pk)
        )
        if locked.service.state in ENDED_STATES or locked.applied_generation < locked.config_generation:
            return False  # ended, or an apply is pending (it resolves the targets itself)
        resolved = [t.as_dict() for t in selectors.targets_resolve(locked)]
        if resolved == locked.applied_targets:
            return False
        locked.config_generation = F("config_generation") + 1
        locked.save(update_fields=["config_generation", "updated_at"])
        locked.refresh_from_db(fields=["config_generation"])
        audit_record(
            actor=None,
            action="loadbalancers.targets.follow",
            target=locked.service,
            organisation_id=locked.service.organisation_id,
            changes={"targets": [t["id"] for t in resolved], "generation": locked.config_generation},
        )
        task_enqueue(task_names.APPLY, locked.pk)
    return True


def lb_sync_all() -> dict[str, int]:
    """The beat's safety net (``tasks.targets_sync``): targets follow label edits, lost applies are sent again.

    The instances app sends no signal when a server's labels are edited, and a lost message leaves
    a generation unapplied: every live load balancer whose applied targets differ from its resolved
    ones gets a new generation; every one with a generation left to apply and no live claim gets its
    apply enqueued again. Each VM first joins and leaves its targets' private networks
    (``lb_networks_sync``): a card that became attached changes the targets' addresses, so it is applied.
    """
    refreshed = resent = 0
    stale = timezone.now() - APPLY_LEASE
    for lb in LoadBalancer.objects.exclude(service__state__in=ENDED_STATES).exclude(instance__isnull=True):
        lb_networks_sync(lb=lb)
        if lb.applied_generation < lb.config_generation:
            if not lb.apply_task or (lb.apply_claimed_at is not None and lb.apply_claimed_at < stale):
                task_enqueue(task_names.APPLY, lb.pk)
                resent += 1
        elif lb_targets_refresh(lb=lb):
            refreshed += 1
    return {"refreshed": refreshed, "resent": resent}


def lb_on_instance_status(*, instance_id: int, after: str) -> None:
    """An instance changed status: an LB's own VM running → apply; a customer's server → its LBs' targets follow."""
    own = LoadBalancer.objects.filter(instance_id=instance_id).first()
    if own is not None:
        if after == InstanceStatus.RUNNING:
            task_enqueue(task_names.APPLY, own.pk)
        elif after == InstanceStatus.ERROR:
            LoadBalancer.objects.filter(pk=own.pk).update(apply_error="vm_error: the VM could not be built")
        return
    organisation_id = Instance.objects.filter(pk=instance_id).values_list("organisation_id", flat=True).first()
    if organisation_id is None:
        return
    for lb in LoadBalancer.objects.filter(service__organisation_id=organisation_id).exclude(
        service__state__in=ENDED_STATES
    ):
        lb_targets_refresh(lb=lb)


# --- the automated backend of the load_balancer family ---------------------------------------------


class LoadBalancerBackend:
    """HAProxy on a platform VM per load balancer (apps/docs/content/load-balancer-engine.md, "The resource")."""

    staff_fulfilled = False

    def provision(self, service: ManagedService, *, secrets: dict[str, str]) -> BackendResult:
        try:
            lb = lb_ensure(service=service)
            instance = lb_vm_create(lb=lb)
        except Unavailable as exc:  # no capacity in the datacentre now: worth a retry
            raise BackendError(str(exc), transient=True) from exc
        except (ValidationFailed, ObjectDoesNotExist) as exc:
            # The platform cannot build it (the VM's offer or image is not configured, no datacentre): staff see
            # the service stay in provisioning with the reason on its load balancer (the back office).
            LoadBalancer.objects.filter(service=service).update(apply_error=f"provision: {exc}"[:2000])
            raise BackendError(f"load balancer {service.pk}: {exc}") from exc
        return BackendResult(done=False, backend_ref=str(instance.public_id))

    def change(self, service: ManagedService, *, secrets: dict[str, str]) -> BackendResult:
        lb = lb_ensure(service=service)
        LoadBalancer.objects.filter(pk=lb.pk).update(config_generation=F("config_generation") + 1)
        task_enqueue(task_names.APPLY, lb.pk)
        return BackendResult(done=True)

    def suspend(self, service: ManagedService) -> BackendResult:
        lb_vm_power(lb=lb_ensure(service=service), on=False)
        return BackendResult(done=True)

    def resume(self, service: ManagedService) -> BackendResult:
        lb_vm_power(lb=lb_ensure(service=service), on=True)
        return BackendResult(done=True)

    def terminate(self, service: ManagedService) -> BackendResult:
        lb = LoadBalancer.objects.filter(service=service).first()
        if lb is not None:
            lb_vm_delete(lb=lb)
        return BackendResult(done=True)

    def status(self, service: ManagedService) -> BackendStatus:
        lb = LoadBalancer.objects.filter(service=service).first()
        instance = Instance.objects.filter(pk=lb.instance_id).first() if lb and lb.instance_id else None
        if instance is None or instance.status == InstanceStatus.DELETED:
            return BackendStatus(state="absent")
        if instance.status == InstanceStatus.RUNNING:
            return BackendStatus(state="active", detail=f"VM {instance.public_id} running")
        if instance.status == InstanceStatus.STOPPED:
            return BackendStatus(state="suspended", detail=f"VM {instance.public_id} stopped")
        return BackendStatus(state="unknown", detail=f"VM {instance.public_id} {instance.status}")


__all__ = [
    "ApplyFailed",
    "LbErrorCode",
    "LoadBalancerBackend",
    "first_config",
    "lb_apply",
    "lb_apply_again",
    "lb_certificate_upload",
    "lb_ensure",
    "lb_health_check_set",
    "lb_health_read",
    "lb_networks_sync",
    "lb_on_instance_status",
    "lb_rules_set",
    "lb_settings_update",
    "lb_sync_all",
    "lb_targets_refresh",
    "lb_targets_set",
    "lb_vm_create",
    "lb_vm_delete",
    "lb_vm_power",
    "plan_run",
    "platform_project",
    "render_spec",
]
