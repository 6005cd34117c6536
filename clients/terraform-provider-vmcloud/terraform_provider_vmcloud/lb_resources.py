"""``vmcloud_load_balancer``: a load balancer service and its whole configuration, in one resource.

Why one resource, when hcloud splits ``hcloud_load_balancer`` from ``hcloud_load_balancer_service``
(a listener with its health check and sticky sessions) and ``hcloud_load_balancer_target``:
hcloud's API adds and removes each listener and target by its own action, so each is an object
with a lifecycle Terraform can own. Ours has no such objects: a load balancer is ordered as a
service with its ``rules`` and ``targets`` (``POST /api/v1/orders/``), and its configuration
lives under ``/api/v1/services/{id}/load-balancer/`` as whole lists replaced by one ``PUT``
(rules, targets, health check) and one ``PATCH`` (settings), created and cancelled with the
service. Separate resources writing slices of one list would race each other and could not
tell their own entries from the others'. So the resource holds the service (name, tier,
labels, protection: what ``vmcloud_service`` holds) and the configuration, as ``rule`` and
``target`` blocks (like ``hcloud_firewall``'s ``rule`` and ``apply_to``), one optional
``health_check`` and ``sticky_sessions`` block (hcloud's names), and the certificate's PEM
(docs page ``/docs/terraform/#load-balancers``).

Everything but the datacentre and the project changes in place. Each change answers the whole
load balancer; the platform then applies it to the load balancer's VM, and the apply waits,
within ``timeouts``, until ``applied_generation`` catches up with ``config_generation``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import vmcloud
from tf.schema import Schema
from tf.types import Unknown
from vmcloud.client import certificate_fingerprint

from . import schemas
from .common import labels_out, timeout
from .resources import _Base

ENDED = ("cancelled", "terminated")
BLOCKS = ("rule", "target", "health_check", "sticky_sessions")
# The platform's values when nothing is set (apps/docs/content/load-balancers.md); a block that
# is left out means these.
HEALTH_DEFAULTS: dict[str, Any] = {
    "protocol": "tcp",
    "port": None,
    "path": "/",
    "host": "",
    "interval_seconds": 5,
    "timeout_seconds": 3,
    "rise": 2,
    "fall": 3,
}
STICKY_DEFAULTS: dict[str, Any] = {"cookie_name": "LBSTICKY", "ttl_seconds": 3600}
TLS_RULES = ("HTTPS", "HTTP/3")


def _known(value: Any) -> bool:
    return value is not None and value is not Unknown


def _int(value: Any) -> Any:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def rule_in(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "protocol": rule["protocol"],
        "port": _int(rule["port"]),
        "target_protocol": rule["target_protocol"],
        "target_port": _int(rule["target_port"]),
    }


def rule_key(rule: dict[str, Any]) -> tuple[Any, ...]:
    """Protocol names compare without case (the API answers its catalogue spelling: ``HTTP``, ``gRPC``)."""
    out = rule_in(rule)
    return (str(out["protocol"]).lower(), out["port"], str(out["target_protocol"]).lower(), out["target_port"])


def target_in(target: dict[str, Any]) -> dict[str, Any]:
    if _known(target.get("server_id")):
        return {"kind": "server", "id": target["server_id"]}
    return {"kind": "label_selector", "label_selector": target["label_selector"]}


def target_key(target: dict[str, Any]) -> tuple[str, str]:
    body = target_in(target)
    return (body["kind"], str(body.get("id") or body.get("label_selector")))


def _target_out(target: dict[str, Any]) -> dict[str, Any]:
    if target.get("kind") == "server":
        return {"server_id": str(target.get("id")), "label_selector": None}
    return {"server_id": None, "label_selector": str(target.get("label_selector"))}


def health_in(block: dict[str, Any] | None) -> dict[str, Any]:
    """The whole health check to ``PUT``: the configured values over the defaults (the API merges otherwise)."""
    given = {k: _int(v) for k, v in (block or {}).items() if v is not None and k in HEALTH_DEFAULTS}
    return {**HEALTH_DEFAULTS, **given}


def sticky_in(block: dict[str, Any]) -> dict[str, Any]:
    given = {k: _int(v) for k, v in block.items() if v is not None and k in STICKY_DEFAULTS}
    return {**STICKY_DEFAULTS, **given}


def _block_out(api: dict[str, Any], defaults: dict[str, Any], prior: list[dict[str, Any]] | None) -> list[Any]:
    """A block as the state holds it: the values the configuration set, and any that differ from the defaults.

    A value left out of the configuration stays null while the platform keeps the default, so the
    plan is empty; one changed outside Terraform appears, and the plan puts it back.
    """
    before: dict[str, Any] = (prior or [{}])[0] or {}
    out = {
        key: (_int(api.get(key)) if before.get(key) is not None or api.get(key) != default else None)
        for key, default in defaults.items()
    }
    if not prior and all(value is None for value in out.values()):
        return []
    return [out]


class LoadBalancer(_Base):
    name = "load_balancer"
    fields = schemas.LOAD_BALANCER
    description = (
        "A load balancer: the service (name, tier, labels) and its `rule`, `target`, `health_check` and "
        "`sticky_sessions` blocks, settings and TLS certificate, changed in place; destroying it cancels it."
    )
    timeouts: ClassVar[tuple[str, ...]] = ("create", "update")
    blocks = (
        schemas.ListBlock("rule", schemas.LB_RULE, description="A forwarding rule (1 to 50; each entry port once)."),
        schemas.ListBlock(
            "target", schemas.LB_TARGET, description="A server or a label selector (set one of the two)."
        ),
        schemas.ListBlock(
            "health_check", schemas.LB_HEALTH_CHECK, description="At most one. Left out: the platform's defaults."
        ),
        schemas.ListBlock(
            "sticky_sessions", schemas.LB_STICKY, description="At most one: a cookie pins each client to a target."
        ),
    )

    @classmethod
    def get_schema(cls) -> Schema:
        return schemas.build_schema(cls.fields, description=cls.description, timeouts=cls.timeouts, blocks=cls.blocks)

    def blank(self) -> dict[str, Any]:
        return {**super().blank(), **{name: [] for name in BLOCKS}}

    def validate(self, diags: Any, type_name: str, config: dict[str, Any]) -> None:
        super().validate(diags, type_name, config)
        config = config or {}
        # A dynamic block, or one whose values are not known yet, is checked by the API at apply time.
        rules = config.get("rule")
        if isinstance(rules, list) and not rules:
            diags.add_error("vmcloud_load_balancer: at least one rule", "Add a `rule { ... }` block.", path=["rule"])
        targets = config.get("target")
        for index, target in enumerate(targets if isinstance(targets, list) else ()):
            if not isinstance(target, dict):
                continue
            given = [k for k in ("server_id", "label_selector") if _known(target.get(k))]
            pending = any(target.get(k) is Unknown for k in ("server_id", "label_selector"))
            if len(given) > 1 or (not given and not pending):
                diags.add_error(
                    "vmcloud_load_balancer: target takes one of server_id or label_selector",
                    f"target block {index + 1} sets {len(given)} of them.",
                    path=["target"],
                )
        for block in ("health_check", "sticky_sessions"):
            value = config.get(block)
            if isinstance(value, list) and len(value) > 1:
                diags.add_error(f"vmcloud_load_balancer: one {block} block at most", "", path=[block])
        has_certificate = config.get("certificate") is not None
        has_key = config.get("private_key") is not None
        if has_certificate != has_key and Unknown not in (config.get("certificate"), config.get("private_key")):
            diags.add_error(
                "vmcloud_load_balancer: certificate and private_key go together",
                'Set both (PEM text, e.g. file("cert.pem")) or neither.',
                path=["private_key" if has_certificate else "certificate"],
            )

    # --- create ---------------------------------------------------------------------------------

    def do_create(self, planned: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
        project = planned.get("project")
        order, service = self.client.create_load_balancer(
            name=planned["name"],
            offer=planned["offer"],
            datacentre=planned["datacentre"],
            rules=[rule_in(r) for r in planned.get("rule") or []],
            targets=[target_in(t) for t in planned.get("target") or []],
            project=_int(project) if _known(project) else None,
        )
        if service is None:
            raise vmcloud.ConfigurationError(
                f"order {order['id']} is {order.get('state')}: the load balancer exists once staff approve the order "
                "(cancel it with `vmcl order cancel`, or apply again later)"
            )
        partial["id"] = service_id = str(service["id"])
        changes: dict[str, Any] = {}
        if planned.get("labels"):
            changes["labels"] = planned["labels"]
        if planned.get("delete_protection") is True:
            changes["delete_protection"] = True
        if changes:
            self.client.services_update(service_id, body=changes)  # type: ignore[arg-type]
        # Configured once the platform runs it: the first configuration is the order's rules and targets.
        self.client.wait_service(service_id, timeout=timeout(planned, "create"))
        settings = self._settings(planned, None)
        if planned.get("sticky_sessions"):
            settings["sticky_sessions"] = sticky_in(planned["sticky_sessions"][0])
        self.client.configure_load_balancer(
            service_id,
            health_check=health_in(planned["health_check"][0]) if planned.get("health_check") else None,
            certificate=planned.get("certificate") if _known(planned.get("certificate")) else None,
            private_key=planned.get("private_key") if _known(planned.get("private_key")) else None,
            chain=planned.get("certificate_chain") or "",
            settings=settings,
        )
        self.client.wait_load_balancer_applied(service_id, timeout=timeout(planned, "create"))
        return self._read_or_fail({**planned, "id": service_id})

    def _settings(self, planned: dict[str, Any], lb: dict[str, Any] | None) -> dict[str, Any]:
        """The settings the plan sets and the load balancer does not have yet."""
        settings: dict[str, Any] = {}
        for key in ("redirect_http_to_https", "proxy_protocol"):
            if isinstance(planned.get(key), bool) and (lb is None or planned[key] != lb.get(key)):
                settings[key] = planned[key]
        mode = planned.get("tls_mode")
        if _known(mode) and (lb is None or mode != (lb.get("tls_mode") or "")):
            settings["tls_mode"] = mode
        return settings

    def _read_or_fail(self, state: dict[str, Any]) -> dict[str, Any]:
        read = self.do_read(state)
        if read is None:
            raise vmcloud.ConfigurationError(f"load balancer {state['id']} ended during the operation")
        return read

    # --- read -----------------------------------------------------------------------------------

    def do_read(self, current: dict[str, Any]) -> dict[str, Any] | None:
        service = self.client.services_retrieve(current["id"])
        if service["state"] in ENDED:
            return None
        if service.get("family") != "load_balancer":
            raise vmcloud.ConfigurationError(
                f"service {current['id']} is a {service.get('family')}, not a load balancer"
            )
        lb: dict[str, Any] = dict(self.client.load_balancers_retrieve(current["id"]))
        endpoints = service.get("endpoints") or {}
        rules = [rule_in(r) for r in lb.get("rules") or []]
        prior_rules = current.get("rule") or []
        if [rule_key(r) for r in prior_rules] == [rule_key(r) for r in rules]:
            rules = [rule_in(r) for r in prior_rules]  # the configured spelling of equal rules
        targets = [_target_out(t) for t in lb.get("targets") or []]
        prior_targets = current.get("target") or []
        if sorted(target_key(t) for t in prior_targets) == sorted(target_key(t) for t in targets):
            targets = [
                {"server_id": t.get("server_id"), "label_selector": t.get("label_selector")} for t in prior_targets
            ]
        sticky = lb.get("sticky_sessions")
        certificate = lb.get("certificate") or {}
        fingerprint = certificate.get("fingerprint_sha256")
        configured = current.get("certificate")
        # The PEM is never read back: the configured one stays while the platform uses it (same fingerprint).
        keep = _known(configured) and fingerprint is not None and certificate_fingerprint(configured) == fingerprint
        return {
            **self.blank(),
            "timeouts": current.get("timeouts"),
            "id": str(service["id"]),
            "name": service["name"],
            "offer": service["tier"],
            "datacentre": lb.get("datacentre") or service.get("datacentre") or current.get("datacentre"),
            "project": int(service["project_id"]),
            "labels": labels_out(service.get("labels"), current.get("labels")),
            "delete_protection": bool(service.get("delete_protection", False)),
            "redirect_http_to_https": bool(lb.get("redirect_http_to_https")),
            "proxy_protocol": bool(lb.get("proxy_protocol")),
            "tls_mode": lb.get("tls_mode") or "",
            "certificate": configured if keep else None,
            "certificate_chain": current.get("certificate_chain") if keep else None,
            "private_key": current.get("private_key") if keep else None,
            "certificate_fingerprint": fingerprint or "",
            "certificate_names": list(certificate.get("names") or []),
            "certificate_not_after": str(certificate.get("not_after") or ""),
            "state": service["state"],
            "urls": list(endpoints.get("urls") or []),
            "hostnames": list(endpoints.get("hostnames") or []),
            "applied_target_ids": [str(t["id"]) for t in lb.get("applied_targets") or []],
            "price_monthly": str(service.get("price_monthly") or ""),
            "rule": rules,
            "target": targets,
            "health_check": _block_out(lb.get("health_check") or {}, HEALTH_DEFAULTS, current.get("health_check")),
            "sticky_sessions": []
            if sticky is None
            else _block_out(sticky, STICKY_DEFAULTS, current.get("sticky_sessions") or [{}]),
        }

    # --- plan, update, delete -------------------------------------------------------------------

    def plan(self, ctx: Any, current: dict[str, Any] | None, planned: dict[str, Any]) -> dict[str, Any]:
        if current is None:
            return planned
        rules_changed = [rule_key(r) for r in planned.get("rule") or []] != [
            rule_key(r) for r in current.get("rule") or []
        ]
        targets_changed = sorted(target_key(t) for t in planned.get("target") or []) != sorted(
            target_key(t) for t in current.get("target") or []
        )
        certificate = planned.get("certificate")
        certificate_changed = _known(certificate) and certificate_fingerprint(certificate) != current.get(
            "certificate_fingerprint"
        )
        if rules_changed:
            planned["urls"] = Unknown
        if rules_changed or targets_changed:
            planned["applied_target_ids"] = Unknown
        if planned.get("offer") != current.get("offer") or planned.get("name") != current.get("name"):
            planned["state"] = Unknown
            planned["price_monthly"] = Unknown
        if certificate_changed:
            for name in ("certificate_fingerprint", "certificate_names", "certificate_not_after"):
                planned[name] = Unknown
        # What the API does to an unset TLS mode (apps/docs/content/load-balancers.md): HTTPS rules or a
        # certificate turn termination on. Planned exactly, so the plan says what the apply does.
        if planned.get("tls_mode") == current.get("tls_mode") == "":
            tls_rules = any(str(r.get("protocol")).upper() in TLS_RULES for r in planned.get("rule") or [])
            if (rules_changed and tls_rules) or certificate_changed:
                planned["tls_mode"] = "terminate"
        return planned

    def do_update(self, current: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any] | None:
        service_id = current["id"]
        changes: dict[str, Any] = {}
        if planned["name"] != current.get("name"):
            changes["name"] = planned["name"]
        if (planned.get("labels") or {}) != (current.get("labels") or {}):
            changes["labels"] = planned.get("labels") or {}
        protect = planned.get("delete_protection")
        if isinstance(protect, bool) and protect != current.get("delete_protection"):
            changes["delete_protection"] = protect
        if changes:
            self.client.services_update(service_id, body=changes)  # type: ignore[arg-type]
        if planned["offer"] != current.get("offer"):
            self.client.services_change_tier(service_id, body={"tier": planned["offer"]})
            self.client.wait_service(service_id, timeout=timeout(planned, "update"))

        wanted_rules = planned.get("rule") or []
        wanted_targets = planned.get("target") or []
        rules_changed = [rule_key(r) for r in wanted_rules] != [rule_key(r) for r in current.get("rule") or []]
        targets_changed = sorted(target_key(t) for t in wanted_targets) != sorted(
            target_key(t) for t in current.get("target") or []
        )
        health = planned.get("health_check") or []
        health_changed = health_in(health[0] if health else None) != health_in(
            (current.get("health_check") or [None])[0]
        )
        certificate = planned.get("certificate")
        upload = _known(certificate) and certificate_fingerprint(certificate) != current.get("certificate_fingerprint")
        lb = self.client.configure_load_balancer(
            service_id,
            rules=[rule_in(r) for r in wanted_rules] if rules_changed else None,
            targets=[target_in(t) for t in wanted_targets] if targets_changed else None,
            health_check=health_in(health[0] if health else None) if health_changed else None,
            certificate=certificate if upload else None,
            private_key=planned.get("private_key") if upload else None,
            chain=planned.get("certificate_chain") or "",
        )
        settings = self._settings(planned, dict(lb))
        sticky = planned.get("sticky_sessions") or []
        if (sticky_in(sticky[0]) if sticky else None) != lb.get("sticky_sessions"):
            settings["sticky_sessions"] = sticky_in(sticky[0]) if sticky else None
        if settings:
            self.client.configure_load_balancer(service_id, settings=settings)
        self.client.wait_load_balancer_applied(service_id, timeout=timeout(planned, "update"))
        return self._read_or_fail({**current, **planned, "id": service_id})

    def do_delete(self, current: dict[str, Any]) -> None:
        service = self.client.services_retrieve(current["id"])
        if service["state"] in ENDED:
            return
        self.client.cancel_service(current["id"], confirm=service["name"], reason="terraform destroy")


class LoadBalancerData:
    """``data "vmcloud_load_balancer"``: one load balancer by ``id`` or ``name``, with its configuration."""

    name = "load_balancer"
    description = "One load balancer, by `id` or `name`: its tier, state, URLs, rules, targets and servers in use."

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return cls.name

    @classmethod
    def get_schema(cls) -> Schema:
        return _data_schema()

    def validate(self, diags: Any, type_name: str, config: dict[str, Any]) -> None:
        config = config or {}
        given = [k for k in ("id", "name") if config.get(k) is not None]
        if len(given) != 1 and not any(config.get(k) is Unknown for k in ("id", "name")):
            diags.add_error("data vmcloud_load_balancer: give id or name", "Exactly one of the two.", path=["id"])

    def read(self, ctx: Any, config: dict[str, Any]) -> dict[str, Any] | None:
        from .common import Failed, reporting

        config = config or {}
        client = self.provider.client()
        try:
            with reporting(ctx.diagnostics, "read load_balancer"):
                service_id = config.get("id")
                if not service_id:
                    found = [
                        row
                        for row in client.services_list_iter(family=["load_balancer"], name=config["name"])
                        if row["state"] not in ENDED
                    ]
                    if len(found) != 1:
                        ctx.diagnostics.add_error(
                            "data vmcloud_load_balancer: not found",
                            f"{len(found)} live load balancers are named {config['name']!r}.",
                        )
                        return None
                    service_id = str(found[0]["id"])
                service = client.services_retrieve(str(service_id))
                lb: dict[str, Any] = dict(client.load_balancers_retrieve(str(service_id)))
        except Failed:
            return None
        endpoints = service.get("endpoints") or {}
        return {
            "id": str(service["id"]),
            "name": service["name"],
            "offer": service["tier"],
            "datacentre": lb.get("datacentre") or "",
            "state": service["state"],
            "labels": dict(service.get("labels") or {}),
            "urls": list(endpoints.get("urls") or []),
            "rules": [{k: str(v) for k, v in rule_in(r).items()} for r in lb.get("rules") or []],
            "targets": [{k: (v or "") for k, v in _target_out(t).items()} for t in lb.get("targets") or []],
            "applied_target_ids": [str(t["id"]) for t in lb.get("applied_targets") or []],
            "tls_mode": lb.get("tls_mode") or "",
            "certificate_fingerprint": (lb.get("certificate") or {}).get("fingerprint_sha256") or "",
        }


def _data_schema() -> Schema:
    from tf import types as t
    from tf.schema import Attribute

    def computed(name: str, kind: Any, description: str) -> Attribute:
        return Attribute(name, kind, description=description, computed=True)

    return Schema(
        version=0,
        description=LoadBalancerData.description,
        attributes=[
            Attribute(
                "id",
                t.String(),
                description="The load balancer's service id (or give `name`).",
                optional=True,
                computed=True,
            ),
            Attribute("name", t.String(), description="Its exact name (or give `id`).", optional=True, computed=True),
            computed("offer", t.String(), "Its tier."),
            computed("datacentre", t.String(), "Datacentre code."),
            computed("state", t.String(), "`provisioning`, `active`, ..."),
            computed("labels", t.Map(t.String()), "Key/value labels."),
            computed("urls", t.List(t.String()), "Public URLs."),
            computed(
                "rules", schemas.ObjectList(("protocol", "port", "target_protocol", "target_port")), "Forwarding rules."
            ),
            computed("targets", schemas.ObjectList(("server_id", "label_selector")), "Targets (one of the two set)."),
            computed("applied_target_ids", t.List(t.String()), "Servers the running configuration forwards to."),
            computed("tls_mode", t.String(), "`terminate`, `passthrough` or empty."),
            computed("certificate_fingerprint", t.String(), "SHA-256 fingerprint of the certificate in use."),
        ],
    )


LB_RESOURCES = (LoadBalancer,)
LB_DATA_SOURCES = (LoadBalancerData,)
