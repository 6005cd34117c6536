"""The customer's changes to a load balancer, and the row itself (created from the order's configuration).

Customer changes (``lb_rules_set``, ``lb_targets_set``, ``lb_health_check_set``,
``lb_certificate_upload``, ``lb_settings_update``) lock the row, check the whole resulting
load balancer (``rules.spec.spec_validate``, ``rules.spec.spec_check_tier``, the engine's refusals),
save, bump ``config_generation``, audit, and enqueue the apply once the transaction commits
(``services.apply``). ``_lock`` and ``_changed`` are what every such change starts and ends with.

HTTPS rules that terminate TLS wait for a certificate: until one is uploaded they are allowed here
and left out of the configuration (``apply.render_spec``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.actors import Actor
from apps.core.errors import Conflict, ValidationFailed
from apps.core.services import audit_record, task_enqueue
from apps.infrastructure.rules import crypto
from apps.loadbalancers import selectors, task_names
from apps.loadbalancers.models import Certificate, LoadBalancer, TlsModeChoice
from apps.loadbalancers.rules.certificates import certificate_validate
from apps.loadbalancers.rules.haproxy import engine_problems
from apps.loadbalancers.rules.spec import (
    COOKIE_RE,
    HealthCheckProtocol,
    LoadBalancerSpec,
    TlsMode,
    spec_check_tier,
    spec_problems,
)
from apps.managed import services as managed_services
from apps.managed.choices import ENDED_STATES
from apps.managed.models import ManagedService
from apps.managed.rules import service_config_clean


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
