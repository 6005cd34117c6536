"""Volumes, private networks (and their server attachments), firewalls and floating IPs (issue 13).

Every long operation answers an Action that ``/api/v1/actions/{id}/`` serves, so each
one is waited for within the resource's ``timeouts``, as for servers. The resources
follow what Terraform users know from hcloud: a volume and a floating IP carry the
``server_id`` they are attached or assigned to (changed in place), a server joins a
network through a separate ``vmcloud_network_attachment`` (like
``hcloud_server_network``), a firewall has ``rule`` and ``apply_to`` blocks.
"""

from __future__ import annotations

import ipaddress
from typing import Any, ClassVar

import vmcloud
from tf.schema import Schema
from tf.types import Unknown

from . import schemas
from .common import labels_out, timeout
from .resources import _Base


def _known(value: Any) -> bool:
    return value is not None and value is not Unknown


class _Cloud(_Base):
    """A resource whose changes are Actions; ``volatile`` computed fields are unknown in a plan that changes it."""

    timeouts: ClassVar[tuple[str, ...]] = ("create", "update", "delete")
    volatile: ClassVar[tuple[str, ...]] = ()
    gone: ClassVar[tuple[str, ...]] = ("deleting", "deleted")

    def _wait(self, action: Any, state: dict[str, Any] | None, operation: str) -> None:
        if action is not None:
            self.client.action(action).wait(timeout=timeout(state, operation), poll_interval=1.0)

    def _project(self, planned: dict[str, Any]) -> int | None:
        project = planned.get("project")
        return int(project) if isinstance(project, int | float) and not isinstance(project, bool) else None

    def _create_body(self, planned: dict[str, Any], **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"organisation_id": self.provider.organisation_id(), "name": planned["name"], **fields}
        if self._project(planned) is not None:
            body["project_id"] = self._project(planned)
        if planned.get("labels"):
            body["labels"] = planned["labels"]
        return body

    def _changes(self, current: dict[str, Any], planned: dict[str, Any], *, protection: bool = False) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if planned["name"] != current.get("name"):
            changes["name"] = planned["name"]
        if (planned.get("labels") or {}) != (current.get("labels") or {}):
            changes["labels"] = planned.get("labels") or {}
        if (
            protection
            and isinstance(planned.get("delete_protection"), bool)
            and planned["delete_protection"] != current.get("delete_protection")
        ):
            changes["delete_protection"] = planned["delete_protection"]
        return changes

    def plan(self, ctx: Any, current: dict[str, Any] | None, planned: dict[str, Any]) -> dict[str, Any]:
        if current is None:
            return planned
        self.check_plan(ctx, current, planned)
        settable = [f.name for f in self.fields if not f.computed or f.optional]
        changed = any(planned.get(name) != current.get(name) for name in [*settable, *self.block_names()])
        if changed:
            for name in self.volatile:
                planned[name] = Unknown
        return planned

    def check_plan(self, ctx: Any, current: dict[str, Any], planned: dict[str, Any]) -> None:
        """Add an error diagnostic for a change the platform cannot make."""

    @classmethod
    def block_names(cls) -> tuple[str, ...]:
        return ()


class Volume(_Cloud):
    name = "volume"
    fields = schemas.VOLUME
    description = "A block storage volume, optionally attached to a server. Grows in place, never shrinks."
    volatile = ("status", "device_path", "price_monthly")

    def do_create(self, planned: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
        body = self._create_body(
            planned,
            tier=planned["tier"],
            size_gb=int(planned["size"]),
            datacentre=planned["datacentre"],
            delete_protection=planned.get("delete_protection") is True,
        )
        if _known(planned.get("server_id")):
            body["server_id"] = planned["server_id"]
        created = self.client.volumes_create(body=body)  # type: ignore[arg-type]
        partial["id"] = str(created["volume"]["id"])
        self._wait(dict(created["action"]), planned, "create")
        return self._read_or_fail({**planned, "id": partial["id"]})

    def _read_or_fail(self, state: dict[str, Any]) -> dict[str, Any]:
        read = self.do_read(state)
        if read is None:
            raise vmcloud.ConfigurationError(f"{self.name} {state['id']} disappeared during the operation")
        return read

    def do_read(self, current: dict[str, Any]) -> dict[str, Any] | None:
        volume = dict(self.client.volumes_retrieve(current["id"]))
        if volume.get("status") in self.gone:
            return None
        return {
            **self.blank(),
            "timeouts": current.get("timeouts"),
            "id": str(volume["id"]),
            "name": volume["name"],
            "tier": volume["tier"],
            "size": int(volume["size_gb"]),
            "datacentre": volume["datacentre"],
            "server_id": volume.get("server_id") or None,
            "project": int(volume["project_id"]),
            "labels": labels_out(volume.get("labels"), current.get("labels")),
            "delete_protection": bool(volume.get("delete_protection", False)),
            "status": volume.get("status") or "",
            "device_path": volume.get("device_path") or "",
            "price_monthly": str(volume.get("price_monthly") or ""),
        }

    def check_plan(self, ctx: Any, current: dict[str, Any], planned: dict[str, Any]) -> None:
        size, before = planned.get("size"), current.get("size")
        if isinstance(size, int | float) and isinstance(before, int | float) and int(size) < int(before):
            ctx.diagnostics.add_error(
                "vmcloud_volume: a volume never shrinks",
                f"size {int(size)} is smaller than the volume's {int(before)} GB. Grow it, or replace it "
                "(`terraform apply -replace=...`: its data is lost).",
                path=["size"],
            )

    def do_update(self, current: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any] | None:
        volume_id = current["id"]
        changes = self._changes(current, planned, protection=True)
        if changes:
            self.client.volumes_update(volume_id, body=changes)  # type: ignore[arg-type]
        server, before = planned.get("server_id") or None, current.get("server_id") or None
        if server != before:
            if before:
                self._wait(self.client.volumes_detach(volume_id), planned, "update")
            if server:
                self._wait(self.client.volumes_attach(volume_id, body={"server_id": server}), planned, "update")
        if int(planned["size"]) > int(current["size"]):
            # The API grows an attached volume only (volume_not_attached otherwise): the diagnostic says so.
            action = self.client.volumes_resize(volume_id, body={"size_gb": int(planned["size"])})
            self._wait(action, planned, "update")
        return self._read_or_fail({**planned, "id": volume_id})

    def do_delete(self, current: dict[str, Any]) -> None:
        volume = dict(self.client.volumes_retrieve(current["id"]))
        if volume.get("status") in self.gone:
            return
        if volume.get("server_id"):
            self._wait(self.client.volumes_detach(current["id"]), current, "delete")
        self._wait(self.client.volumes_destroy(current["id"]), current, "delete")


class Network(_Cloud):
    name = "network"
    fields = schemas.NETWORK
    description = (
        "A private network (IPv4 range and subnets) in one datacentre; servers join it with vmcloud_network_attachment."
    )
    volatile = ("status",)

    def do_create(self, planned: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
        body = self._create_body(planned, ip_range=planned["ip_range"], datacentre=planned["datacentre"])
        if _known(planned.get("subnets")) and planned["subnets"]:
            body["subnets"] = list(planned["subnets"])
        created = self.client.networks_create(body=body)  # type: ignore[arg-type]
        partial["id"] = str(created["network"]["id"])
        self._wait(dict(created["action"]), planned, "create")
        read = self.do_read({**planned, "id": partial["id"]})
        if read is None:
            raise vmcloud.ConfigurationError(f"network {partial['id']} disappeared during its creation")
        return read

    def do_read(self, current: dict[str, Any]) -> dict[str, Any] | None:
        network = dict(self.client.networks_retrieve(current["id"]))
        if network.get("status") in self.gone:
            return None
        subnets = [str(s["cidr"]) for s in network.get("subnets") or []]
        prior = current.get("subnets")
        if isinstance(prior, list) and sorted(prior) == sorted(subnets):
            subnets = list(prior)  # the configuration's order
        return {
            **self.blank(),
            "timeouts": current.get("timeouts"),
            "id": str(network["id"]),
            "name": network["name"],
            "ip_range": network["ip_range"],
            "datacentre": network["datacentre"],
            "subnets": subnets,
            "project": int(network["project_id"]),
            "labels": labels_out(network.get("labels"), current.get("labels")),
            "status": network.get("status") or "",
        }

    def do_update(self, current: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any] | None:
        network_id = current["id"]
        changes = self._changes(current, planned)
        if changes:
            self.client.networks_update(network_id, body=changes)  # type: ignore[arg-type]
        wanted = planned.get("subnets")
        if isinstance(wanted, list):
            # Removed subnets first (a server's address in one is a 409 subnet_in_use: detach it first),
            # so a range can move from one subnet to another that overlaps it.
            removed = [c for c in (current.get("subnets") or []) if c not in wanted]
            if removed:
                ids = {s["cidr"]: str(s["id"]) for s in self.client.networks_subnets_list_iter(network_id)}
                for cidr in removed:
                    if cidr in ids:
                        action = self.client.networks_subnets_destroy(network_id, ids[cidr])
                        self._wait(action, planned, "update")
            for cidr in [c for c in wanted if c not in (current.get("subnets") or [])]:
                self._wait(self.client.networks_subnets_create(network_id, body={"cidr": cidr}), planned, "update")
        read = self.do_read({**planned, "id": network_id})
        return read

    def do_delete(self, current: dict[str, Any]) -> None:
        self._wait(self.client.networks_destroy(current["id"]), current, "delete")


class NetworkAttachment(_Cloud):
    name = "network_attachment"
    fields = schemas.NETWORK_ATTACHMENT
    description = "A server attached to a private network, with its private address (like hcloud_server_network)."
    timeouts = ("create", "delete")

    def do_create(self, planned: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
        network_id, server_id = planned["network_id"], planned["server_id"]
        body: dict[str, Any] = {"server_id": server_id}
        if _known(planned.get("ip")):
            body["ip"] = planned["ip"]
        action = self.client.networks_attach(network_id, body=body)  # type: ignore[arg-type]
        partial["id"] = f"{network_id}/{server_id}"
        self._wait(action, planned, "create")
        read = self.do_read({**planned, "id": partial["id"]})
        if read is None:
            raise vmcloud.ConfigurationError(f"server {server_id} is not on network {network_id} after its attach")
        return read

    def do_read(self, current: dict[str, Any]) -> dict[str, Any] | None:
        network_id, _, server_id = str(current["id"]).partition("/")
        network = dict(self.client.networks_retrieve(network_id))
        if network.get("status") in self.gone:
            return None
        for entry in network.get("servers") or []:
            if str(entry.get("server_id")) == server_id and entry.get("status") in ("attaching", "attached"):
                return {
                    **self.blank(),
                    "timeouts": current.get("timeouts"),
                    "id": f"{network_id}/{server_id}",
                    "network_id": network_id,
                    "server_id": server_id,
                    "ip": entry.get("address") or "",
                    "interface": entry.get("interface") or "",
                    "needs_reboot": bool(entry.get("needs_reboot", False)),
                }
        return None

    def do_import(self, id: str) -> dict[str, Any] | None:
        if "/" not in id:
            raise ValueError(f"import a network attachment as <network_id>/<server_id>, not {id!r}")
        return super().do_import(id)

    def do_update(self, current: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any] | None:
        return self.do_read({**planned, "id": current["id"]})  # every argument forces a new attachment

    def do_delete(self, current: dict[str, Any]) -> None:
        if self.do_read(current) is None:
            return
        network_id, _, server_id = str(current["id"]).partition("/")
        self._wait(self.client.networks_detach(network_id, body={"server_id": server_id}), current, "delete")


def _ip_key(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        return value


def _host(value: str) -> str:
    """``198.51.100.7/32`` as ``198.51.100.7`` (how people write one address); other values unchanged."""
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return value
    return str(network.network_address) if network.num_addresses == 1 else value


def _rule_out(rule: dict[str, Any], *, bare_hosts: bool = False) -> dict[str, Any]:
    """A rule as the state holds it: empty values are null, as in a configuration that leaves them out."""
    sources = list(rule.get("source_ips") or [])
    destinations = list(rule.get("destination_ips") or [])
    if bare_hosts:
        sources, destinations = [_host(i) for i in sources], [_host(i) for i in destinations]
    return {
        "direction": rule.get("direction"),
        "protocol": rule.get("protocol"),
        "port": rule.get("port") or None,
        "source_ips": sources or None,
        "destination_ips": destinations or None,
        "description": rule.get("description") or None,
    }


def _rule_key(rule: dict[str, Any]) -> tuple[Any, ...]:
    out = _rule_out(rule)
    return (
        out["direction"],
        out["protocol"],
        out["port"],
        tuple(_ip_key(i) for i in out["source_ips"] or ()),
        tuple(_ip_key(i) for i in out["destination_ips"] or ()),
        out["description"],
    )


def _rule_in(rule: dict[str, Any]) -> dict[str, Any]:
    body = {"direction": rule["direction"], "protocol": rule["protocol"]}
    for key in ("port", "source_ips", "destination_ips", "description"):
        if rule.get(key) is not None:
            body[key] = rule[key]
    return body


def _target_in(target: dict[str, Any]) -> dict[str, Any]:
    if target.get("server"):
        return {"type": "server", "server": {"id": target["server"]}}
    return {"type": "label_selector", "label_selector": {"selector": target.get("label_selector") or ""}}


def _target_key(target: dict[str, Any]) -> tuple[str, str]:
    if target.get("server"):
        return ("server", str(target["server"]))
    return ("label_selector", str(target.get("label_selector") or ""))


class Firewall(_Cloud):
    name = "firewall"
    fields = schemas.FIREWALL
    description = "A firewall: `rule` blocks (allowed traffic) applied to servers or label selectors (`apply_to`)."
    volatile = ("applied",)
    blocks = (
        schemas.ListBlock("rule", schemas.FIREWALL_RULE, description="Allowed traffic; everything else is dropped."),
        schemas.ListBlock(
            "apply_to", schemas.FIREWALL_APPLY_TO, description="A server or a label selector (set one of the two)."
        ),
    )

    @classmethod
    def get_schema(cls) -> Schema:
        return schemas.build_schema(cls.fields, description=cls.description, timeouts=cls.timeouts, blocks=cls.blocks)

    @classmethod
    def block_names(cls) -> tuple[str, ...]:
        return ("rule", "apply_to")

    def blank(self) -> dict[str, Any]:
        return {**super().blank(), "rule": [], "apply_to": []}

    def validate(self, diags: Any, type_name: str, config: dict[str, Any]) -> None:
        super().validate(diags, type_name, config)
        for index, target in enumerate((config or {}).get("apply_to") or []):
            # Values still unknown at validation (a server's id, a variable) are checked by the API later.
            given = [k for k in ("server", "label_selector") if _known(target.get(k))]
            pending = any(target.get(k) is Unknown for k in ("server", "label_selector"))
            if len(given) > 1 or (not given and not pending):
                diags.add_error(
                    "vmcloud_firewall: apply_to takes one of server or label_selector",
                    f"apply_to block {index + 1} sets {len(given)} of them.",
                    path=["apply_to"],
                )

    def do_create(self, planned: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
        body = self._create_body(planned, rules=[_rule_in(r) for r in planned.get("rule") or []])
        if planned.get("apply_to"):
            body["apply_to"] = [_target_in(t) for t in planned["apply_to"]]
        created = self.client.firewalls_create(body=body)  # type: ignore[arg-type]
        partial["id"] = str(created["firewall"]["id"])
        for action in created.get("actions") or []:
            self._wait(dict(action), planned, "create")
        read = self.do_read({**planned, "id": partial["id"]})
        if read is None:
            raise vmcloud.ConfigurationError(f"firewall {partial['id']} disappeared during its creation")
        return read

    def do_read(self, current: dict[str, Any]) -> dict[str, Any] | None:
        firewall = dict(self.client.firewalls_retrieve(current["id"]))
        if firewall.get("status") in self.gone:
            return None
        # The API answers 198.51.100.7/32 for 198.51.100.7: the state keeps the configured form of an equal
        # rule, and a host without a prior form (import) as the bare address people usually write.
        rules = [_rule_out(r, bare_hosts=True) for r in firewall.get("rules") or []]
        prior_rules = current.get("rule") or []
        if [_rule_key(r) for r in prior_rules] == [_rule_key(r) for r in rules]:
            rules = [_rule_out(r) for r in prior_rules]
        targets = [
            {"server": str(t["server"]["id"]), "label_selector": None}
            if t.get("type") == "server"
            else {"server": None, "label_selector": str(t["label_selector"]["selector"])}
            for t in firewall.get("applied_to") or []
        ]
        prior_targets = current.get("apply_to") or []
        if sorted(_target_key(t) for t in prior_targets) == sorted(_target_key(t) for t in targets):
            targets = [{"server": t.get("server"), "label_selector": t.get("label_selector")} for t in prior_targets]
        return {
            **self.blank(),
            "timeouts": current.get("timeouts"),
            "id": str(firewall["id"]),
            "name": firewall["name"],
            "project": int(firewall["project_id"]),
            "labels": labels_out(firewall.get("labels"), current.get("labels")),
            "applied": bool(firewall.get("applied", False)),
            "rule": rules,
            "apply_to": targets,
        }

    def do_update(self, current: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any] | None:
        firewall_id = current["id"]
        changes = self._changes(current, planned)
        if changes:
            self.client.firewalls_update(firewall_id, body=changes)  # type: ignore[arg-type]
        wanted = planned.get("rule") or []
        if [_rule_key(r) for r in wanted] != [_rule_key(r) for r in current.get("rule") or []]:
            action = self.client.firewalls_set_rules(firewall_id, body={"rules": [_rule_in(r) for r in wanted]})  # type: ignore[typeddict-item]
            self._wait(action, planned, "update")
        before = {_target_key(t): t for t in current.get("apply_to") or []}
        after = {_target_key(t): t for t in planned.get("apply_to") or []}
        removed = [_target_in(before[k]) for k in before if k not in after]
        added = [_target_in(after[k]) for k in after if k not in before]
        if removed:
            action = self.client.firewalls_remove_from_resources(firewall_id, body={"remove_from": removed})  # type: ignore[typeddict-item]
            self._wait(action, planned, "update")
        if added:
            action = self.client.firewalls_apply_to_resources(firewall_id, body={"apply_to": added})  # type: ignore[typeddict-item]
            self._wait(action, planned, "update")
        return self.do_read({**planned, "id": firewall_id})

    def do_delete(self, current: dict[str, Any]) -> None:
        self._wait(self.client.firewalls_destroy(current["id"]), current, "delete")


class FloatingIp(_Cloud):
    name = "floating_ip"
    fields = schemas.FLOATING_IP
    description = "A floating IPv4 address of a datacentre, assigned to one server at a time (`server_id`)."
    volatile = ("status",)
    gone = ("releasing", "released")

    def do_create(self, planned: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
        body = self._create_body(planned, delete_protection=planned.get("delete_protection") is True)
        if _known(planned.get("datacentre")):
            body["datacentre"] = planned["datacentre"]
        if _known(planned.get("server_id")):
            body["server_id"] = planned["server_id"]
        created = self.client.floating_ips_create(body=body)  # type: ignore[arg-type]
        partial["id"] = str(created["floating_ip"]["id"])
        action = created.get("action")
        if isinstance(action, dict):
            self._wait(dict(action), planned, "create")
        read = self.do_read({**planned, "id": partial["id"]})
        if read is None:
            raise vmcloud.ConfigurationError(f"floating IP {partial['id']} disappeared during its creation")
        return read

    def do_read(self, current: dict[str, Any]) -> dict[str, Any] | None:
        fip = dict(self.client.floating_ips_retrieve(current["id"]))
        if fip.get("status") in self.gone:
            return None
        return {
            **self.blank(),
            "timeouts": current.get("timeouts"),
            "id": str(fip["id"]),
            "name": fip["name"],
            "datacentre": fip["datacentre"],
            "server_id": fip.get("server_id") or None,
            "project": int(fip["project_id"]),
            "labels": labels_out(fip.get("labels"), current.get("labels")),
            "delete_protection": bool(fip.get("delete_protection", False)),
            "address": fip.get("address") or "",
            "status": fip.get("status") or "",
            "price_monthly": str(fip.get("price_monthly") or ""),
        }

    def do_update(self, current: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any] | None:
        fip_id = current["id"]
        changes = self._changes(current, planned, protection=True)
        if changes:
            self.client.floating_ips_update(fip_id, body=changes)  # type: ignore[arg-type]
        server, before = planned.get("server_id") or None, current.get("server_id") or None
        if server != before:
            if server:
                self._wait(self.client.floating_ips_assign(fip_id, body={"server_id": server}), planned, "update")
            else:
                self._wait(self.client.floating_ips_unassign(fip_id), planned, "update")
        return self.do_read({**planned, "id": fip_id})

    def do_delete(self, current: dict[str, Any]) -> None:
        self._wait(self.client.floating_ips_destroy(current["id"]), current, "delete")


CLOUD_RESOURCES = (Volume, Network, NetworkAttachment, Firewall, FloatingIp)
