"""Firewall endpoints of the simulated PVE API: cluster options, macros, security groups and their rules,
cluster and VM IP sets and aliases, VM options and VM rules.

Every write is synchronous and returns ``null``; none takes the VM config lock
(the firewall has its own files and locks). Rules are checked as pve-firewall's
``verify_rule`` does, POST always inserts at position 0, a rule without
``enable`` is stored disabled, and ``digest`` is checked on PUT and DELETE
(docs/dev/proxmox-behaviour.md#firewall, #firewall-rules, #firewall-ipsets,
#lock-placement). Routes register on import.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from apps.pvesim.handlers import Call, route
from apps.pvesim.netstate import FwScope, digest_of, firewall_state, typed
from apps.pvesim.schema import FW_ALIAS_REF, FW_IPSET_REF, FW_PORT_PROTOCOLS, fw_address_version
from apps.pvesim.state import PveHttpError, param_error

MODIFIED = "detected modified configuration - file changed by other user? Try again."
RULE_FIELDS = ("type", "action", "macro", "iface", "source", "dest", "proto", "dport", "sport", "icmp-type", "log")
RULE_FIELDS_ALL = (*RULE_FIELDS, "enable", "comment")
# Rule types each place accepts (pve-firewall ``verify_rule``).
RULE_TYPES = {
    "vm": ("in", "out", "group"),
    "group": ("in", "out", "forward"),
    "cluster": ("in", "out", "forward", "group"),
}
# GET /cluster/firewall/macros: the usual ones (pve-firewall ``$pve_fw_macros``).
MACROS = {
    "DNS": "Domain Name System traffic (upd and tcp)",
    "FTP": "File Transfer Protocol",
    "HTTP": "Hypertext Transfer Protocol (WWW)",
    "HTTPS": "Hypertext Transfer Protocol (WWW) over SSL",
    "IMAP": "Internet Message Access Protocol",
    "IMAPS": "Internet Message Access Protocol over SSL",
    "MySQL": "MySQL server",
    "NTP": "Network Time Protocol (ntpd)",
    "Ping": "ICMP echo request",
    "PostgreSQL": "PostgreSQL server",
    "RDP": "Microsoft Remote Desktop Protocol traffic",
    "SMTP": "Simple Mail Transfer Protocol",
    "SMTPS": "Encrypted Simple Mail Transfer Protocol",
    "SNMP": "Simple Network Management Protocol",
    "SSH": "Secure shell traffic",
    "Submission": "Mail message submission traffic",
    "Telnet": "Telnet traffic",
    "Web": "WWW traffic (HTTP and HTTPS)",
}


def _assert_digest(call: Call, current: Any) -> None:
    digest = call.params.get("digest")
    if digest and digest != digest_of(current):
        raise PveHttpError(500, MODIFIED)


def _vm_scope(call: Call) -> FwScope:
    c = call.cluster
    c.vm(call.node, call.vmid)
    return firewall_state(c).vm(call.vmid)


# ---------------------------------------------------------------------------------------------- options


def _options_get(options: dict[str, Any]) -> dict[str, Any]:
    return {**options, "digest": digest_of(options)}


def _options_put(call: Call, options: dict[str, Any]) -> None:
    _assert_digest(call, options)
    delete = [d for d in re.split(r"[,;\s]+", str(call.params.get("delete", ""))) if d]
    for key, value in typed(call.params).items():
        if key not in ("delete", "digest"):
            options[key] = value
    for key in delete:
        options.pop(key, None)


@route("GET", "/cluster/firewall/options")
def cluster_options_get(call: Call) -> Any:
    return _options_get(firewall_state(call.cluster).cluster.options)


@route("PUT", "/cluster/firewall/options")
def cluster_options_put(call: Call) -> Any:
    _options_put(call, firewall_state(call.cluster).cluster.options)
    return None


@route("GET", "/nodes/{node}/qemu/{vmid}/firewall")
def vm_firewall_index(call: Call) -> Any:
    _vm_scope(call)
    return [{"name": n} for n in ("rules", "aliases", "ipset", "refs", "options")]


@route("GET", "/nodes/{node}/qemu/{vmid}/firewall/options")
def vm_options_get(call: Call) -> Any:
    return _options_get(_vm_scope(call).options)


@route("PUT", "/nodes/{node}/qemu/{vmid}/firewall/options")
def vm_options_put(call: Call) -> Any:
    _options_put(call, _vm_scope(call).options)
    return None


@route("GET", "/cluster/firewall/macros")
def macros(call: Call) -> Any:
    return [{"macro": name, "descr": descr} for name, descr in sorted(MACROS.items())]


# ------------------------------------------------------------------------------------------------ rules


def _resolve_ipset(call: Call, vm_scope: FwScope | None, scope: str | None, name: str) -> bool:
    cluster = firewall_state(call.cluster).cluster
    if scope == "dc":
        return name in cluster.ipsets
    if scope == "guest":
        return vm_scope is not None and name in vm_scope.ipsets
    return (vm_scope is not None and name in vm_scope.ipsets) or name in cluster.ipsets


def _resolve_alias(call: Call, vm_scope: FwScope | None, scope: str | None, name: str) -> bool:
    cluster = firewall_state(call.cluster).cluster
    name = name.lower()
    if scope == "dc":
        return name in cluster.aliases
    if scope == "guest":
        return vm_scope is not None and name in vm_scope.aliases
    return (vm_scope is not None and name in vm_scope.aliases) or name in cluster.aliases


def verify_rule(call: Call, rule: dict[str, Any], env: str, vm_scope: FwScope | None) -> None:
    """pve-firewall ``verify_rule``: every problem as a parameter error (400)."""
    errors: dict[str, str] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, message)

    kind, action = rule.get("type"), rule.get("action")
    if not kind:
        add("type", "missing property")
    if not action:
        add("action", "missing property")
    if kind in ("in", "out", "forward"):
        if action and action not in ("ACCEPT", "DROP", "REJECT"):
            add("action", f"unknown action '{action}'")
        if kind == "forward" and action == "REJECT":
            add("action", "REJECT is not allowed for forward rules")
    elif kind == "group" and env == "group":
        add("type", "security groups not allowed")
    if kind and kind not in RULE_TYPES[env] and "type" not in errors:
        add("type", f"invalid rule type '{kind}' for rule_env '{env}'")
    iface = rule.get("iface")
    if iface:
        if env == "group":
            add("type", "parameter -i not allowed for this rule type")
        elif env == "vm" and not re.fullmatch(r"net\d+", str(iface)):
            add("iface", "value does not match the regex pattern 'net\\d+'")
    macro = rule.get("macro")
    if macro:
        preferred = {name.lower(): name for name in MACROS}.get(str(macro).lower())
        if preferred is None:
            add("macro", f"unknown macro '{macro}'")
        else:
            rule["macro"] = preferred
    proto = str(rule.get("proto") or "")
    is_icmp = proto in ("icmp", "icmpv6", "ipv6-icmp", "1", "58")
    for key in ("dport", "sport"):
        if rule.get(key):
            if not proto:
                add("proto", f"missing property - '{key}' requires this property")
            elif proto not in FW_PORT_PROTOCOLS and not (key == "dport" and is_icmp):
                add(key, f"protocol '{proto}' does not support ports")
    if rule.get("icmp-type"):
        if not is_icmp:
            add("proto", "missing property - 'icmp-type' requires this property")
        if rule.get("dport"):
            add("icmp-type", "'icmp-type' and 'dport' are mutually exclusive")
    versions = set()
    for key in ("source", "dest"):
        value = str(rule.get(key) or "")
        if not value:
            continue
        ipset = FW_IPSET_REF.fullmatch(value)
        alias = FW_ALIAS_REF.fullmatch(value)
        if ipset:
            if not _resolve_ipset(call, vm_scope, ipset.group(1), ipset.group(2)):
                add(key, f"no such ipset '{ipset.group(2)}'")
        elif alias:
            if not _resolve_alias(call, vm_scope, alias.group(1), alias.group(2)):
                add(key, f"no such alias '{alias.group(2).lower()}'")
        else:
            version = fw_address_version(value)
            if version:
                versions.add(version)
    if len(versions) > 1:
        add("dest", "mixed ipv4/ipv6 in source and dest")
    if errors:
        raise param_error(errors)


def _rule_rows(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    digest = digest_of(rules)
    return [{**rule, "pos": pos, "digest": digest} for pos, rule in enumerate(rules)]


def _rule_at(rules: list[dict[str, Any]], call: Call) -> int:
    pos = int(call.path_params["pos"])
    if not 0 <= pos < len(rules):
        raise PveHttpError(500, f"no rule at position {pos}")
    return pos


def _rule_create(call: Call, rules: list[dict[str, Any]], env: str, vm_scope: FwScope | None) -> None:
    """POST: always inserted at position 0 (``pos`` is ignored); no ``enable`` means stored disabled."""
    rule = typed({k: call.params[k] for k in RULE_FIELDS_ALL if k in call.params})
    verify_rule(call, rule, env, vm_scope)
    rule["enable"] = int(call.params.get("enable", 0))
    rules.insert(0, rule)


def _rule_update(call: Call, rules: list[dict[str, Any]], env: str, vm_scope: FwScope | None) -> None:
    _assert_digest(call, rules)
    pos = _rule_at(rules, call)
    if "moveto" in call.params:
        rule = rules.pop(pos)
        rules.insert(min(int(call.params["moveto"]), len(rules)), rule)
        return
    rule = dict(rules[pos])
    rule.update(typed({k: call.params[k] for k in RULE_FIELDS_ALL if k in call.params}))
    for key in [d for d in re.split(r"[,;\s]+", str(call.params.get("delete", ""))) if d]:
        rule.pop(key, None)
    verify_rule(call, rule, env, vm_scope)
    rules[pos] = rule


def _rule_delete(call: Call, rules: list[dict[str, Any]]) -> None:
    _assert_digest(call, rules)
    del rules[_rule_at(rules, call)]


@route("GET", "/nodes/{node}/qemu/{vmid}/firewall/rules")
def vm_rules(call: Call) -> Any:
    return _rule_rows(_vm_scope(call).rules)


@route("POST", "/nodes/{node}/qemu/{vmid}/firewall/rules")
def vm_rule_create(call: Call) -> Any:
    scope = _vm_scope(call)
    _rule_create(call, scope.rules, "vm", scope)
    return None


@route("GET", "/nodes/{node}/qemu/{vmid}/firewall/rules/{pos}")
def vm_rule_get(call: Call) -> Any:
    rules = _vm_scope(call).rules
    return _rule_rows(rules)[_rule_at(rules, call)]


@route("PUT", "/nodes/{node}/qemu/{vmid}/firewall/rules/{pos}")
def vm_rule_update(call: Call) -> Any:
    scope = _vm_scope(call)
    _rule_update(call, scope.rules, "vm", scope)
    return None


@route("DELETE", "/nodes/{node}/qemu/{vmid}/firewall/rules/{pos}")
def vm_rule_delete(call: Call) -> Any:
    _rule_delete(call, _vm_scope(call).rules)
    return None


@route("GET", "/nodes/{node}/qemu/{vmid}/firewall/refs")
def vm_refs(call: Call) -> Any:
    """The IP sets and aliases a VM rule may refer to: the VM's own (``guest``) and the cluster's (``dc``)."""
    vm_scope = _vm_scope(call)
    rows: list[dict[str, Any]] = []
    for scope_name, scope in (("dc", firewall_state(call.cluster).cluster), ("guest", vm_scope)):
        for name, ipset in sorted(scope.ipsets.items()):
            rows.append({"type": "ipset", "name": name, "ref": f"+{scope_name}/{name}", "scope": scope_name})
            if ipset.get("comment"):
                rows[-1]["comment"] = ipset["comment"]
        for alias in (a for _, a in sorted(scope.aliases.items())):
            rows.append(
                {"type": "alias", "name": alias["name"], "ref": f"{scope_name}/{alias['name']}", "scope": scope_name}
            )
            if alias.get("comment"):
                rows[-1]["comment"] = alias["comment"]
    if "type" in call.params:
        rows = [r for r in rows if r["type"] == call.params["type"]]
    return rows


# Cluster-wide rules (all four types; they apply to every node's host firewall).


@route("GET", "/cluster/firewall/rules")
def cluster_rules(call: Call) -> Any:
    return _rule_rows(_cluster(call).rules)


@route("POST", "/cluster/firewall/rules")
def cluster_rule_create(call: Call) -> Any:
    _rule_create(call, _cluster(call).rules, "cluster", None)
    return None


@route("GET", "/cluster/firewall/rules/{pos}")
def cluster_rule_get(call: Call) -> Any:
    rules = _cluster(call).rules
    return _rule_rows(rules)[_rule_at(rules, call)]


@route("PUT", "/cluster/firewall/rules/{pos}")
def cluster_rule_update(call: Call) -> Any:
    _rule_update(call, _cluster(call).rules, "cluster", None)
    return None


@route("DELETE", "/cluster/firewall/rules/{pos}")
def cluster_rule_delete(call: Call) -> Any:
    _rule_delete(call, _cluster(call).rules)
    return None


# --------------------------------------------------------------------------------------- security groups


def _group(call: Call) -> dict[str, Any]:
    name = call.path_params["group"]
    group = firewall_state(call.cluster).groups.get(name)
    if group is None:
        raise PveHttpError(500, f"no such security group '{name}'")
    return group


@route("GET", "/cluster/firewall/groups")
def group_list(call: Call) -> Any:
    groups = firewall_state(call.cluster).groups
    digest = digest_of(groups)
    return [
        {"group": name, "digest": digest, **({"comment": g["comment"]} if g.get("comment") else {})}
        for name, g in sorted(groups.items())
    ]


@route("POST", "/cluster/firewall/groups")
def group_create(call: Call) -> Any:
    """Create ``group``, or rename the group ``rename`` to ``group``."""
    groups = firewall_state(call.cluster).groups
    _assert_digest(call, groups)
    name = str(call.params["group"])
    old = call.params.get("rename")
    if old is not None:
        if old not in groups:
            raise PveHttpError(500, f"no such security group '{old}'")
        if name != old and name in groups:
            raise PveHttpError(500, f"Security group '{name}' already exists")
        groups[name] = groups.pop(str(old))
    elif name in groups:
        raise PveHttpError(500, f"Security group '{name}' already exists")
    else:
        groups[name] = {"rules": []}
    if "comment" in call.params:
        groups[name]["comment"] = call.params["comment"]
    return None


@route("DELETE", "/cluster/firewall/groups/{group}")
def group_delete(call: Call) -> Any:
    group = _group(call)
    if group["rules"]:
        raise PveHttpError(500, f"Security group '{call.path_params['group']}' is not empty")
    del firewall_state(call.cluster).groups[call.path_params["group"]]
    return None


@route("GET", "/cluster/firewall/groups/{group}")
def group_rules(call: Call) -> Any:
    return _rule_rows(_group(call)["rules"])


@route("POST", "/cluster/firewall/groups/{group}")
def group_rule_create(call: Call) -> Any:
    _rule_create(call, _group(call)["rules"], "group", None)
    return None


@route("GET", "/cluster/firewall/groups/{group}/{pos}")
def group_rule_get(call: Call) -> Any:
    rules = _group(call)["rules"]
    return _rule_rows(rules)[_rule_at(rules, call)]


@route("PUT", "/cluster/firewall/groups/{group}/{pos}")
def group_rule_update(call: Call) -> Any:
    _rule_update(call, _group(call)["rules"], "group", None)
    return None


@route("DELETE", "/cluster/firewall/groups/{group}/{pos}")
def group_rule_delete(call: Call) -> Any:
    _rule_delete(call, _group(call)["rules"])
    return None


# ---------------------------------------------------------------------------------------------- IP sets


def _ipset_list(scope: FwScope) -> list[dict[str, Any]]:
    digest = digest_of(scope.ipsets)
    return [
        {"name": name, "digest": digest, **({"comment": s["comment"]} if s.get("comment") else {})}
        for name, s in sorted(scope.ipsets.items())
    ]


def _ipset_create(call: Call, scope: FwScope) -> None:
    _assert_digest(call, scope.ipsets)
    name = str(call.params["name"])
    old = call.params.get("rename")
    if old is not None:
        if old not in scope.ipsets:
            raise PveHttpError(500, f"no such IPSet '{old}'")
        if name != old and name in scope.ipsets:
            raise PveHttpError(500, f"IPSet '{name}' already exists")
        scope.ipsets[name] = scope.ipsets.pop(str(old))
    elif name in scope.ipsets:
        raise PveHttpError(500, f"IPSet '{name}' already exists")
    else:
        scope.ipsets[name] = {"entries": []}
    if "comment" in call.params:
        scope.ipsets[name]["comment"] = call.params["comment"]


def _ipset(call: Call, scope: FwScope) -> dict[str, Any]:
    name = call.path_params["name"]
    ipset = scope.ipsets.get(name)
    if ipset is None:
        raise PveHttpError(500, f"no such IPSet '{name}'")
    return ipset


def _ipset_delete(call: Call, scope: FwScope) -> None:
    ipset = _ipset(call, scope)
    if ipset["entries"] and not call.flag("force"):
        raise PveHttpError(500, f"IPSet '{call.path_params['name']}' is not empty")
    del scope.ipsets[call.path_params["name"]]


def _entry_rows(ipset: dict[str, Any]) -> list[dict[str, Any]]:
    digest = digest_of(ipset["entries"])
    return [{**entry, "digest": digest} for entry in ipset["entries"]]


def _entry_add(call: Call, scope: FwScope, vm_scope: FwScope | None) -> None:
    ipset = _ipset(call, scope)
    cidr = str(call.params["cidr"])
    alias = FW_ALIAS_REF.fullmatch(cidr)
    if alias and not _is_address(cidr) and not _resolve_alias(call, vm_scope, alias.group(1), alias.group(2)):
        raise param_error({"cidr": f"no such alias '{alias.group(2).lower()}'"})
    if any(e["cidr"] == cidr for e in ipset["entries"]):
        raise PveHttpError(500, f"address '{cidr}' already exists")
    entry: dict[str, Any] = {"cidr": cidr}
    if call.flag("nomatch"):
        entry["nomatch"] = 1
    if "comment" in call.params:
        entry["comment"] = call.params["comment"]
    ipset["entries"].append(entry)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def _entry_index(call: Call, ipset: dict[str, Any]) -> int:
    cidr = call.path_params["cidr"]
    for index, entry in enumerate(ipset["entries"]):
        if entry["cidr"] == cidr:
            return index
    raise PveHttpError(500, f"no such IP/Network '{cidr}'")


def _entry_update(call: Call, scope: FwScope) -> None:
    ipset = _ipset(call, scope)
    _assert_digest(call, ipset["entries"])
    entry = ipset["entries"][_entry_index(call, ipset)]
    if "nomatch" in call.params:
        entry["nomatch"] = int(call.flag("nomatch"))
    if "comment" in call.params:
        entry["comment"] = call.params["comment"]


def _entry_delete(call: Call, scope: FwScope) -> None:
    ipset = _ipset(call, scope)
    _assert_digest(call, ipset["entries"])
    del ipset["entries"][_entry_index(call, ipset)]


def _cluster(call: Call) -> FwScope:
    return firewall_state(call.cluster).cluster


@route("GET", "/cluster/firewall/ipset")
def cluster_ipsets(call: Call) -> Any:
    return _ipset_list(_cluster(call))


@route("POST", "/cluster/firewall/ipset")
def cluster_ipset_create(call: Call) -> Any:
    _ipset_create(call, _cluster(call))
    return None


@route("DELETE", "/cluster/firewall/ipset/{name}")
def cluster_ipset_delete(call: Call) -> Any:
    _ipset_delete(call, _cluster(call))
    return None


@route("GET", "/cluster/firewall/ipset/{name}")
def cluster_ipset_entries(call: Call) -> Any:
    return _entry_rows(_ipset(call, _cluster(call)))


@route("POST", "/cluster/firewall/ipset/{name}")
def cluster_ipset_add(call: Call) -> Any:
    _entry_add(call, _cluster(call), None)
    return None


@route("GET", "/cluster/firewall/ipset/{name}/{cidr}")
def cluster_ipset_entry(call: Call) -> Any:
    ipset = _ipset(call, _cluster(call))
    return _entry_rows(ipset)[_entry_index(call, ipset)]


@route("PUT", "/cluster/firewall/ipset/{name}/{cidr}")
def cluster_ipset_update(call: Call) -> Any:
    _entry_update(call, _cluster(call))
    return None


@route("DELETE", "/cluster/firewall/ipset/{name}/{cidr}")
def cluster_ipset_remove(call: Call) -> Any:
    _entry_delete(call, _cluster(call))
    return None


@route("GET", "/nodes/{node}/qemu/{vmid}/firewall/ipset")
def vm_ipsets(call: Call) -> Any:
    return _ipset_list(_vm_scope(call))


@route("POST", "/nodes/{node}/qemu/{vmid}/firewall/ipset")
def vm_ipset_create(call: Call) -> Any:
    _ipset_create(call, _vm_scope(call))
    return None


@route("DELETE", "/nodes/{node}/qemu/{vmid}/firewall/ipset/{name}")
def vm_ipset_delete(call: Call) -> Any:
    _ipset_delete(call, _vm_scope(call))
    return None


@route("GET", "/nodes/{node}/qemu/{vmid}/firewall/ipset/{name}")
def vm_ipset_entries(call: Call) -> Any:
    return _entry_rows(_ipset(call, _vm_scope(call)))


@route("POST", "/nodes/{node}/qemu/{vmid}/firewall/ipset/{name}")
def vm_ipset_add(call: Call) -> Any:
    scope = _vm_scope(call)
    _entry_add(call, scope, scope)
    return None


@route("GET", "/nodes/{node}/qemu/{vmid}/firewall/ipset/{name}/{cidr}")
def vm_ipset_entry(call: Call) -> Any:
    ipset = _ipset(call, _vm_scope(call))
    return _entry_rows(ipset)[_entry_index(call, ipset)]


@route("PUT", "/nodes/{node}/qemu/{vmid}/firewall/ipset/{name}/{cidr}")
def vm_ipset_update(call: Call) -> Any:
    _entry_update(call, _vm_scope(call))
    return None


@route("DELETE", "/nodes/{node}/qemu/{vmid}/firewall/ipset/{name}/{cidr}")
def vm_ipset_remove(call: Call) -> Any:
    _entry_delete(call, _vm_scope(call))
    return None


# ---------------------------------------------------------------------------------------------- aliases


def _alias_list(scope: FwScope) -> list[dict[str, Any]]:
    digest = digest_of(scope.aliases)
    return [{**alias, "digest": digest} for _, alias in sorted(scope.aliases.items())]


def _alias_create(call: Call, scope: FwScope) -> None:
    name = str(call.params["name"])
    if name.lower() in scope.aliases:
        raise PveHttpError(500, f"alias '{name}' already exists")
    alias: dict[str, Any] = {"name": name, "cidr": call.params["cidr"]}
    if "comment" in call.params:
        alias["comment"] = call.params["comment"]
    scope.aliases[name.lower()] = alias


def _alias(call: Call, scope: FwScope) -> dict[str, Any]:
    name = call.path_params["name"]
    alias = scope.aliases.get(name.lower())
    if alias is None:
        raise PveHttpError(500, f"no such alias '{name}'")
    return alias


def _alias_update(call: Call, scope: FwScope) -> None:
    _assert_digest(call, scope.aliases)
    alias = _alias(call, scope)
    alias["cidr"] = call.params["cidr"]
    if "comment" in call.params:
        alias["comment"] = call.params["comment"]
    new = call.params.get("rename")
    if new is not None:
        if str(new).lower() in scope.aliases and str(new).lower() != alias["name"].lower():
            raise PveHttpError(500, f"alias '{new}' already exists")
        del scope.aliases[alias["name"].lower()]
        alias["name"] = str(new)
        scope.aliases[str(new).lower()] = alias


def _alias_delete(call: Call, scope: FwScope) -> None:
    _assert_digest(call, scope.aliases)
    del scope.aliases[_alias(call, scope)["name"].lower()]


@route("GET", "/cluster/firewall/aliases")
def cluster_aliases(call: Call) -> Any:
    return _alias_list(_cluster(call))


@route("POST", "/cluster/firewall/aliases")
def cluster_alias_create(call: Call) -> Any:
    _alias_create(call, _cluster(call))
    return None


@route("GET", "/cluster/firewall/aliases/{name}")
def cluster_alias_get(call: Call) -> Any:
    return {**_alias(call, _cluster(call)), "digest": digest_of(_cluster(call).aliases)}


@route("PUT", "/cluster/firewall/aliases/{name}")
def cluster_alias_update(call: Call) -> Any:
    _alias_update(call, _cluster(call))
    return None


@route("DELETE", "/cluster/firewall/aliases/{name}")
def cluster_alias_delete(call: Call) -> Any:
    _alias_delete(call, _cluster(call))
    return None


@route("GET", "/nodes/{node}/qemu/{vmid}/firewall/aliases")
def vm_aliases(call: Call) -> Any:
    return _alias_list(_vm_scope(call))


@route("POST", "/nodes/{node}/qemu/{vmid}/firewall/aliases")
def vm_alias_create(call: Call) -> Any:
    _alias_create(call, _vm_scope(call))
    return None


@route("GET", "/nodes/{node}/qemu/{vmid}/firewall/aliases/{name}")
def vm_alias_get(call: Call) -> Any:
    scope = _vm_scope(call)
    return {**_alias(call, scope), "digest": digest_of(scope.aliases)}


@route("PUT", "/nodes/{node}/qemu/{vmid}/firewall/aliases/{name}")
def vm_alias_update(call: Call) -> Any:
    _alias_update(call, _vm_scope(call))
    return None


@route("DELETE", "/nodes/{node}/qemu/{vmid}/firewall/aliases/{name}")
def vm_alias_delete(call: Call) -> Any:
    _alias_delete(call, _vm_scope(call))
    return None
