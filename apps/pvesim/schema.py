"""Proxmox's official API schema, read at run time, and a validator for its dialect.

The schema is ``pve-apidata-8.4.json`` (the ``apiSchema`` of pve-docs
``api-viewer/apidata.js``). It is AGPL data: it is read from outside the repo
(``../shared/proxmox/`` relative to the repo root, or ``$PVE_SCHEMA_PATH``) and
never copied here. Without it the simulator still runs and says that requests
are not validated.

The validator follows ``PVE::JSONSchema`` (docs/dev/proxmox-behaviour.md#schema-dialect and #validation-messages):
``optional: 1`` instead of ``required``, indexed keys (``net[n]`` → ``net0…net31``), named
formats and inline property-string formats (``default_key``, ``alias``,
``keyAlias``), booleans as ``1``/``0`` (``on/yes/true`` inside property strings),
Perl patterns, ``additionalProperties: 0``, and the exact error texts.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from django.conf import settings

logger = logging.getLogger(__name__)

SCHEMA_ENV = "PVE_SCHEMA_PATH"
SCHEMA_RELATIVE = Path("..") / "shared" / "proxmox" / "pve-apidata-8.4.json"

# Ranges of indexed options (docs/dev/proxmox-behaviour.md#indexed-options, from qemu-server's MAX_* constants).
INDEX_RANGES = {
    "scsi": 31,
    "virtio": 16,
    "ide": 4,
    "sata": 6,
    "hostpci": 16,
    "net": 32,
    "ipconfig": 32,
    "usb": 15,
    "serial": 4,
    "parallel": 3,
    "numa": 8,
    "unused": 256,
    "virtiofs": 10,
    "mp": 256,
    "dev": 256,
}


def schema_path() -> Path:
    """``$PVE_SCHEMA_PATH`` or ``<repo>/../shared/proxmox/pve-apidata-8.4.json``."""
    env = os.environ.get(SCHEMA_ENV)
    if env:
        return Path(env)
    return (Path(settings.BASE_DIR) / SCHEMA_RELATIVE).resolve()


@dataclass
class _PathNode:
    children: dict[str, _PathNode] = field(default_factory=dict)
    param: tuple[str, _PathNode] | None = None
    template: str = ""
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """A request path resolved against the schema."""

    template: str  # "/nodes/{node}/qemu/{vmid}/config"
    path_params: dict[str, str]
    info: dict[str, Any] | None  # the method's schema; None if the path exists but not this method


class PveSchema:
    """The API tree of one PVE version: route a path, validate a method's parameters."""

    def __init__(self, tree: list[dict[str, Any]], source: str = "") -> None:
        self.source = source
        self._root = _PathNode(template="")
        self.method_count = 0
        for node in tree:
            self._add(node)

    def _add(self, node: Mapping[str, Any]) -> None:
        target = self._root
        for segment in str(node["path"]).strip("/").split("/"):
            if segment.startswith("{") and segment.endswith("}"):
                if target.param is None:
                    target.param = (segment[1:-1], _PathNode())
                target = target.param[1]
            else:
                target = target.children.setdefault(segment, _PathNode())
        target.template = str(node["path"])
        for method, info in (node.get("info") or {}).items():
            target.methods[method] = info
            self.method_count += 1
        for child in node.get("children") or []:
            self._add(child)

    def route(self, method: str, path: str) -> Route | None:
        """Resolve ``/nodes/pve1/qemu/100/config``; None if PVE has no such path."""
        segments = [unquote(s) for s in path.strip("/").split("/") if s]
        found = self._match(self._root, segments, {})
        if found is None or not found[0].template:
            return None
        node, params = found
        return Route(template=node.template, path_params=params, info=node.methods.get(method))

    def _match(
        self, node: _PathNode, segments: list[str], params: dict[str, str]
    ) -> tuple[_PathNode, dict[str, str]] | None:
        if not segments:
            return node, params
        head, rest = segments[0], segments[1:]
        child = node.children.get(head)
        if child is not None:
            found = self._match(child, rest, params)
            if found is not None:
                return found
        if node.param is not None:
            name, param_node = node.param
            return self._match(param_node, rest, {**params, name: head})
        return None

    def validate(self, info: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, str]:
        """Check ``params`` (path parameters included) against a method; return PVE's ``errors`` dict."""
        return validate_parameters(info.get("parameters") or {}, params)


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> PveSchema:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    # The file is the JSON array; tolerate the original ``const apiSchema = [...];`` wrapper too.
    start = text.find("[")
    tree = json.loads(text[start:].rstrip().rstrip(";"))
    return PveSchema(tree, source=path)


def load_schema(path: Path | None = None) -> PveSchema | None:
    """Load (cached) the schema, or return None and log how to get it."""
    path = path or schema_path()
    if not path.is_file():
        logger.warning(
            "pvesim: Proxmox API schema not found at %s: requests are NOT validated against the schema. "
            "Put pve-apidata-8.4.json there (see docs/dev/proxmox-behaviour.md#schema-source: api-viewer/apidata.js of "
            "proxmox/pve-docs, stable-bookworm) or set %s to its path.",
            path,
            SCHEMA_ENV,
        )
        return None
    return _load(str(path), path.stat().st_mtime)


# --------------------------------------------------------------------------- validation


class _FormatError(Exception):
    pass


def _expand_indexed(properties: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[re.Pattern[str], int, Any]]]:
    plain: dict[str, Any] = {}
    indexed: list[tuple[re.Pattern[str], int, Any]] = []
    for name, schema in properties.items():
        if name.endswith("[n]"):
            base = name[:-3]
            indexed.append((re.compile(rf"^{re.escape(base)}(\d+)$"), INDEX_RANGES.get(base, 256), schema))
        else:
            plain[name] = schema
    return plain, indexed


def _schema_for(key: str, plain: Mapping[str, Any], indexed: list[tuple[re.Pattern[str], int, Any]]) -> Any:
    if key in plain:
        return plain[key]
    for pattern, count, schema in indexed:
        match = pattern.match(key)
        if match and int(match.group(1)) < count and str(int(match.group(1))) == match.group(1):
            return schema
    return None


def validate_parameters(parameters: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, str]:
    """PVE's ``validate_params``: unknown, missing and malformed parameters → ``{name: reason}``."""
    errors: dict[str, str] = {}
    properties = parameters.get("properties") or {}
    plain, indexed = _expand_indexed(properties)
    additional = parameters.get("additionalProperties", 1)
    for key, value in params.items():
        schema = _schema_for(key, plain, indexed)
        if schema is None:
            if not additional:
                errors[key] = "property is not defined in schema and the schema does not allow additional properties"
            continue
        if value is None:
            continue  # given without a value (``k`` or ``k=`` in form data): as if absent, checked below
        message = check_value(schema, value, key)
        if message:
            errors[key] = message
    for name, schema in plain.items():
        if params.get(name) is None and not schema.get("optional"):
            errors[name] = "property is missing and it is not optional"
    for key, value in params.items():
        # ``requires`` between parameters (PVE::JSONSchema check_object), e.g. ``force`` needs ``delete``.
        schema = _schema_for(key, plain, indexed)
        required = schema.get("requires") if isinstance(schema, Mapping) else None
        if value is not None and isinstance(required, str) and params.get(required) is None:
            errors.setdefault(required, f"missing property - '{key}' requires this property")
    return errors


_INT_RE = re.compile(r"^[+-]?\d+$")
_NUM_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_TRUE = {"1", "on", "yes", "true"}
_FALSE = {"0", "off", "no", "false"}


def _perl_pattern(pattern: str) -> re.Pattern[str]:
    return _compile(pattern.replace("(?^:", "(?:").replace("(?^i:", "(?i:"))


@functools.lru_cache(maxsize=512)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def check_value(schema: Mapping[str, Any], value: Any, name: str, *, in_property_string: bool = False) -> str | None:
    """One value against one property schema; the PVE error text or None."""
    kind = schema.get("type", "string")
    if kind == "array":
        items = schema.get("items") or {}
        for item in value if isinstance(value, list) else [value]:
            message = check_value(items, item, name)
            if message:
                return message
        return None
    if isinstance(value, list):
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt.endswith("-list"):
            # $normalize_legacy_param_formats (docs/dev/proxmox-behaviour.md#list-parameters)
            value = ",".join(str(v) for v in value)
        else:
            return f"type check ('{kind}') failed - got ARRAY"
    if kind == "boolean":
        if isinstance(value, bool):
            return None
        text = str(value)
        valid = text.lower() in (_TRUE | _FALSE) if in_property_string else text in {"0", "1"}
        if not valid:
            return f"type check ('boolean') failed - got '{text}'"
        return None
    text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict) else str(value)
    if kind == "integer":
        if isinstance(value, bool) or not _INT_RE.match(text):
            return f"type check ('integer') failed - got '{text}'"
        return _check_range(schema, int(text))
    if kind == "number":
        if isinstance(value, bool) or not _NUM_RE.match(text):
            return f"type check ('number') failed - got '{text}'"
        return _check_range(schema, float(text))
    if kind == "object":
        return None
    # strings
    if "enum" in schema and text not in schema["enum"]:
        return f"value '{text}' does not have a value in the enumeration '{', '.join(schema['enum'])}'"
    if "maxLength" in schema and len(text) > int(schema["maxLength"]):
        return f"value may only be {schema['maxLength']} characters long"
    if "minLength" in schema and len(text) < int(schema["minLength"]):
        return f"value must be at least {schema['minLength']} characters long"
    fmt = schema.get("format")
    if fmt:
        try:
            if isinstance(fmt, dict):
                parse_property_string(fmt, text, name)
            else:
                check_named_format(str(fmt), text, name)
        except _FormatError as exc:
            return f"invalid format - {exc}"
    if "pattern" in schema and not _perl_pattern(str(schema["pattern"])).fullmatch(text):
        return "value does not match the regex pattern"
    return None


def _check_range(schema: Mapping[str, Any], number: float) -> str | None:
    if "minimum" in schema and number < float(schema["minimum"]):
        return f"value must have a minimum value of {schema['minimum']}"
    if "maximum" in schema and number > float(schema["maximum"]):
        return f"value must have a maximum value of {schema['maximum']}"
    return None


def parse_property_string(fmt: Mapping[str, Any], text: str, name: str) -> dict[str, str]:
    """``key=value,key2=value2`` with ``default_key``, ``alias`` and ``keyAlias`` (PVE ``parse_property_string``)."""
    result: dict[str, str] = {}
    default_key = next((key for key, sub in fmt.items() if isinstance(sub, dict) and sub.get("default_key")), None)
    # PVE 8.4 runs ``parse_boolean`` (yes/on/true) on ``key=value`` booleans only, not on a bare value
    # taken as the default key: ``agent=yes`` fails where ``agent=enabled=yes`` or ``agent=1`` pass.
    bare: set[str] = set()
    for part in text.split(","):
        if part == "":
            continue
        key, sep, value = part.partition("=")
        if not sep:
            if default_key is None:
                raise _FormatError("value without key, but schema does not define a default key\n")
            key, value = default_key, part
            bare.add(key)
        key = key.strip()
        sub = fmt.get(key)
        if sub is None:
            raise _FormatError(f"invalid key in comma-separated list property: {key}\n")
        if "alias" in sub:
            if "keyAlias" in sub:
                result[str(sub["keyAlias"])] = key
            key = str(sub["alias"])
        if key in result:
            raise _FormatError(f"duplicate key in comma-separated list property: {key}\n")
        result[key] = value
    problems = []
    for key, sub in fmt.items():
        if not isinstance(sub, dict) or "alias" in sub:
            continue
        if key in result:
            message = check_value(sub, result[key], f"{name}.{key}", in_property_string=key not in bare)
            if message:
                problems.append(f"{name}.{key}: {message}")
        elif not sub.get("optional"):
            problems.append(f"{name}.{key}: property is missing and it is not optional")
    for key in result:
        # ``requires``: a key that needs another (PVE::JSONSchema check_object).
        required = (fmt.get(key) or {}).get("requires") if isinstance(fmt.get(key), dict) else None
        if isinstance(required, str) and required not in result:
            problems.append(f"{name}.{required}: missing property required by '{name}.{key}'")
    if problems:
        raise _FormatError("format error\n" + "".join(f"{p}\n" for p in problems))
    return result


# Named formats (pve-common JSONSchema.pm register_format); messages follow their ``die`` texts.
_NAMED_RE: dict[str, tuple[str, str]] = {
    "pve-node": (r"[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?", "value does not look like a valid node name"),
    "pve-vmid": (r"[1-9][0-9]{2,8}", "value does not look like a valid VM ID"),
    "pve-configid": (r"(?i)[a-z][a-z0-9_-]+", "invalid configuration ID '{v}'"),
    "pve-storage-id": (r"(?i)[a-z][a-z0-9\-_.]*[a-z0-9]", "storage ID '{v}' contains illegal characters"),
    "pve-poolid": (r"[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+){0,2}", "invalid pool ID '{v}'"),
    "dns-name": (
        r"(([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)\.)*([A-Za-z0-9]([A-Za-z0-9\-]*[A-Za-z0-9])?)",
        "value does not look like a valid DNS name",
    ),
    "urlencoded": (r"[-%a-zA-Z0-9_.!~*'()]*", "invalid urlencoded string: {v}\n"),
    "mac-addr": (r"(?i)[a-f0-9][02468ace](?::[a-f0-9]{2}){5}", "value does not look like a valid unicast MAC address"),
    "pve-bridge-id": (r"[-_.\w\d]+", "invalid format - value does not look like a valid bridge name"),
    "disk-size": (r"\d+(\.\d+)?[KMGT]?", "disk size '{v}' is not a valid disk size"),
    "pve-tag": (r"(?i)[a-z0-9_][a-z0-9_\-+.]*", "invalid tag '{v}'"),
    "pve-volume-id-or-qm-path": (
        r"(?i)(none|cdrom|/.+|[a-z][a-z0-9\-_.]*[a-z0-9]:.+)",
        "unable to parse volume ID '{v}'",
    ),
    "pve-volume-id": (r"(?i)[a-z][a-z0-9\-_.]*[a-z0-9]:.+", "unable to parse volume ID '{v}'"),
    "pve-userid": (r"[^\s:/]+@[A-Za-z][A-Za-z0-9\.\-_]+", "value '{v}' does not look like a valid user name"),
    "pve-storage-content": (r"images|rootdir|vztmpl|iso|backup|snippets|import|none", "invalid content type '{v}'"),
}

_HOSTPCI_ID = r"(?:[a-f0-9]{4,}:)?[a-f0-9]{2}:[a-f0-9]{2}(?:\.[a-f0-9])?"
_HOSTPCI_FMT = {
    "host": {"default_key": 1, "optional": 1, "type": "string", "pattern": rf"{_HOSTPCI_ID}(;{_HOSTPCI_ID})*"},
    "mapping": {"optional": 1, "type": "string", "format": "pve-configid"},
    "pcie": {"optional": 1, "type": "boolean"},
    "x-vga": {"optional": 1, "type": "boolean"},
    "rombar": {"optional": 1, "type": "boolean"},
    "romfile": {"optional": 1, "type": "string"},
    "mdev": {"optional": 1, "type": "string"},
    "legacy-igd": {"optional": 1, "type": "boolean"},
    "vendor-id": {"optional": 1, "type": "string", "pattern": r"0x[0-9a-fA-F]{4}"},
    "device-id": {"optional": 1, "type": "string", "pattern": r"0x[0-9a-fA-F]{4}"},
    "sub-vendor-id": {"optional": 1, "type": "string", "pattern": r"0x[0-9a-fA-F]{4}"},
    "sub-device-id": {"optional": 1, "type": "string", "pattern": r"0x[0-9a-fA-F]{4}"},
}
_IPCONFIG_FMT = {
    "ip": {"optional": 1, "type": "string", "format": "pve-ipv4-config"},
    "gw": {"optional": 1, "type": "string", "format": "ipv4", "requires": "ip"},
    "ip6": {"optional": 1, "type": "string", "format": "pve-ipv6-config"},
    "gw6": {"optional": 1, "type": "string", "format": "ipv6", "requires": "ip6"},
}
# qemu-server CPUConfig.pm (PVE 8.4): the built-in models a VM may name, and the only flags a VM's own
# ``cpu`` option may set (others need a custom model); ``validate_vm_cpu_conf``.
CPU_MODELS = frozenset(
    [
        "486",
        "pentium",
        "pentium2",
        "pentium3",
        "coreduo",
        "core2duo",
        "Conroe",
        "Penryn",
        "Nehalem",
        "Nehalem-IBRS",
        "Westmere",
        "Westmere-IBRS",
        "SandyBridge",
        "SandyBridge-IBRS",
        "IvyBridge",
        "IvyBridge-IBRS",
        "Haswell",
        "Haswell-IBRS",
        "Haswell-noTSX",
        "Haswell-noTSX-IBRS",
        "Broadwell",
        "Broadwell-IBRS",
        "Broadwell-noTSX",
        "Broadwell-noTSX-IBRS",
        "Skylake-Client",
        "Skylake-Client-IBRS",
        "Skylake-Client-noTSX-IBRS",
        "Skylake-Client-v4",
        "Skylake-Server",
        "Skylake-Server-IBRS",
        "Skylake-Server-noTSX-IBRS",
        "Skylake-Server-v4",
        "Skylake-Server-v5",
        "Cascadelake-Server",
        "Cascadelake-Server-v2",
        "Cascadelake-Server-noTSX",
        "Cascadelake-Server-v4",
        "Cascadelake-Server-v5",
        "Cooperlake",
        "Cooperlake-v2",
        "KnightsMill",
        "Icelake-Client",
        "Icelake-Client-noTSX",
        "Icelake-Server",
        "Icelake-Server-noTSX",
        "Icelake-Server-v3",
        "Icelake-Server-v4",
        "Icelake-Server-v5",
        "Icelake-Server-v6",
        "SapphireRapids",
        "SapphireRapids-v2",
        "GraniteRapids",
        "athlon",
        "phenom",
        "Opteron_G1",
        "Opteron_G2",
        "Opteron_G3",
        "Opteron_G4",
        "Opteron_G5",
        "EPYC",
        "EPYC-IBPB",
        "EPYC-v3",
        "EPYC-v4",
        "EPYC-Rome",
        "EPYC-Rome-v2",
        "EPYC-Rome-v3",
        "EPYC-Rome-v4",
        "EPYC-Milan",
        "EPYC-Milan-v2",
        "EPYC-Genoa",
        "host",
        "kvm32",
        "kvm64",
        "qemu32",
        "qemu64",
        "max",
        "x86-64-v2",
        "x86-64-v2-AES",
        "x86-64-v3",
        "x86-64-v4",
    ]
)
VM_CPU_FLAGS = (
    "pcid",
    "spec-ctrl",
    "ibpb",
    "ssbd",
    "virt-ssbd",
    "amd-ssbd",
    "amd-no-ssb",
    "pdpe1gb",
    "md-clear",
    "hv-tlbflush",
    "hv-evmcs",
    "aes",
)
_VM_CPU_FLAG = rf"[+-]({'|'.join(re.escape(f) for f in VM_CPU_FLAGS)})"
_CPU_FMT = {
    "cputype": {"default_key": 1, "optional": 1, "type": "string", "pattern": r"[-\w.+ ]+"},
    "flags": {"optional": 1, "type": "string", "pattern": r"[+-][a-zA-Z0-9\-_.]+(;[+-][a-zA-Z0-9\-_.]+)*"},
    "hidden": {"optional": 1, "type": "boolean"},
    "hv-vendor-id": {"optional": 1, "type": "string", "pattern": r"[a-zA-Z0-9]{1,12}"},
    "phys-bits": {"optional": 1, "type": "string", "pattern": r"host|[0-9]{1,2}"},
    "reported-model": {"optional": 1, "type": "string"},
}
_CICUSTOM_FMT = {
    key: {"optional": 1, "type": "string", "format": "pve-volume-id"} for key in ("meta", "network", "user", "vendor")
}
_PROPERTY_FORMATS: dict[str, dict[str, Any]] = {
    "pve-qm-hostpci": _HOSTPCI_FMT,
    "pve-qm-ipconfig": _IPCONFIG_FMT,
    "pve-vm-cpu-conf": _CPU_FMT,
    "pve-qm-cicustom": _CICUSTOM_FMT,
}


def _ip(text: str, version: int | None, cidr: bool) -> bool:
    try:
        value: Any = ipaddress.ip_interface(text) if cidr else ipaddress.ip_address(text)
    except ValueError:
        return False
    if cidr and "/" not in text:
        return False
    return version is None or value.version == version


def check_named_format(fmt: str, text: str, name: str) -> None:
    """Raise ``_FormatError`` with PVE's message when ``text`` is not a valid ``fmt``; unknown formats pass."""
    if fmt.endswith("-list") and fmt not in _NAMED_RE:
        base = fmt[: -len("-list")]
        items = re.split(r"[;, ]", text) if base == "pve-tag" else re.split(r"[,;\s]+", text)
        for item in items:
            if item:
                check_named_format(base, item, name)
        return
    if fmt in _PROPERTY_FORMATS:
        parsed = parse_property_string(_PROPERTY_FORMATS[fmt], text, name)
        if fmt == "pve-qm-hostpci":
            _check_hostpci(text)
        if fmt == "pve-vm-cpu-conf":
            _check_vm_cpu(parsed)
        return
    if fmt in _NAMED_RE:
        pattern, message = _NAMED_RE[fmt]
        if not _compile(pattern).fullmatch(text):
            raise _FormatError(message.format(v=text))
        return
    if fmt in ("pve-sdn-zone-id", "pve-sdn-vnet-id"):
        # pve-network: zone and vnet IDs become interface names (docs/dev/proxmox-behaviour.md#sdn-objects).
        kind = "zone" if fmt == "pve-sdn-zone-id" else "vnet"
        if not re.fullmatch(r"(?i)[a-z][a-z0-9]*[a-z0-9]", text):
            raise _FormatError(f"{kind} ID '{text}' contains illegal characters\n")
        if len(text) > 8:
            raise _FormatError(f"{kind} ID '{text}' can't be more length than 8 characters\n")
        return
    if fmt in _FW_FORMATS:
        _FW_FORMATS[fmt](text)
        return
    if fmt == "pve-sdn-subnet-id":
        # A CIDR on create, ``<zone>-<ip>-<prefix>`` in paths (pve-network ``parse_sdn_subnet_id``).
        cidr = text
        match = re.fullmatch(r"[a-zA-Z0-9]+-(.+)-(\d+)", text)
        if match:
            cidr = f"{match.group(1)}/{match.group(2)}"
        if not _ip(cidr, None, True):
            raise _FormatError(f"value '{text}' does not look like a valid subnet\n")
        return
    checks = {
        "ipv4": lambda: _ip(text, 4, False),
        "ipv6": lambda: _ip(text, 6, False),
        "ip": lambda: _ip(text, None, False),
        "address": lambda: _ip(text, None, False) or bool(_compile(_NAMED_RE["dns-name"][0]).fullmatch(text)),
        "CIDR": lambda: _ip(text, None, True),
        "CIDRv4": lambda: _ip(text, 4, True),
        "CIDRv6": lambda: _ip(text, 6, True),
        "pve-ipv4-config": lambda: text == "dhcp" or _ip(text, 4, True),
        "pve-ipv6-config": lambda: text in ("dhcp", "auto") or _ip(text, 6, True),
    }
    if fmt in checks and not checks[fmt]():
        raise _FormatError(f"value does not look like a valid {fmt.replace('pve-', '').replace('-config', '')}")
    # Other named formats (firewall specs, calendar events, ...) are not used by the portal: accepted as is.


def _check_vm_cpu(cpu: Mapping[str, str]) -> None:
    """``validate_vm_cpu_conf``: a known model (no custom models here), VM-settable flags, no reported-model."""
    cputype = cpu.get("cputype")
    if not cputype:
        raise _FormatError("CPU is missing cputype\n")
    if cputype.startswith("custom-"):
        raise _FormatError(f"Custom cputype '{cputype[len('custom-') :]}' not found\n")
    if cputype not in CPU_MODELS:
        raise _FormatError(f"Built-in cputype '{cputype}' is not defined (missing 'custom-' prefix?)\n")
    flags = cpu.get("flags")
    if flags and not _compile(rf"{_VM_CPU_FLAG}(;{_VM_CPU_FLAG})*").fullmatch(flags):
        raise _FormatError(f"VM-specific CPU flags must be a subset of: {', '.join(VM_CPU_FLAGS)}\n")
    if "reported-model" in cpu:
        raise _FormatError("Property 'reported-model' not allowed in VM-specific CPU config.\n")


def _check_hostpci(text: str) -> None:
    keys = {part.partition("=")[0] if "=" in part else "host" for part in text.split(",") if part}
    if "host" in keys and "mapping" in keys:
        raise _FormatError("Cannot set both 'host' and 'mapping'.\n")
    if "host" not in keys and "mapping" not in keys:
        raise _FormatError("Either 'host' or 'mapping' must be set.\n")


# ---------------------------------------------------------------------------------- firewall formats
# pve-firewall Firewall.pm (stable-bookworm): the registered ``pve-fw-*`` formats and their ``die`` texts
# (docs/dev/proxmox-behaviour.md#firewall-rules). Names stand for /etc/protocols and /etc/services.

FW_PROTOCOLS = {
    "ip": 0, "icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "egp": 8, "udp": 17, "ipv6": 41, "ipv6-route": 43,
    "ipv6-frag": 44, "gre": 47, "esp": 50, "ah": 51, "ipv6-icmp": 58, "icmpv6": 58, "ipv6-nonxt": 59,
    "ipv6-opts": 60, "ospf": 89, "pim": 103, "vrrp": 112, "l2tp": 115, "sctp": 132, "udplite": 136, "dccp": 33,
}  # fmt: skip
FW_PORT_PROTOCOLS = ("tcp", "udp", "udplite", "dccp", "sctp", "6", "17", "136", "33", "132")
FW_SERVICES = {
    "ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "bootps": 67, "bootpc": 68,
    "tftp": 69, "http": 80, "kerberos": 88, "pop3": 110, "sunrpc": 111, "ident": 113, "ntp": 123,
    "netbios-ns": 137, "imap2": 143, "snmp": 161, "ldap": 389, "https": 443, "microsoft-ds": 445,
    "submissions": 465, "syslog": 514, "submission": 587, "ldaps": 636, "rsync": 873, "imaps": 993, "pop3s": 995,
    "openvpn": 1194, "ms-sql-s": 1433, "nfs": 2049, "mysql": 3306, "ms-wbt-server": 3389, "postgresql": 5432,
    "amqp": 5672, "x11": 6000, "redis": 6379, "http-alt": 8080, "memcache": 11211,
}  # fmt: skip
FW_ICMP_TYPES = (
    "any", "echo-reply", "destination-unreachable", "network-unreachable", "host-unreachable",
    "protocol-unreachable", "port-unreachable", "fragmentation-needed", "source-route-failed",
    "network-unknown", "host-unknown", "network-prohibited", "host-prohibited", "TOS-network-unreachable",
    "TOS-host-unreachable", "communication-prohibited", "host-precedence-violation", "precedence-cutoff",
    "source-quench", "redirect", "network-redirect", "host-redirect", "TOS-network-redirect", "TOS-host-redirect",
    "echo-request", "router-advertisement", "router-solicitation", "time-exceeded", "ttl-zero-during-transit",
    "ttl-zero-during-reassembly", "parameter-problem", "ip-header-bad", "required-option-missing",
    "timestamp-request", "timestamp-reply", "address-mask-request", "address-mask-reply",
)  # fmt: skip
FW_ICMPV6_TYPES = (
    "destination-unreachable", "no-route", "communication-prohibited", "beyond-scope", "address-unreachable",
    "port-unreachable", "failed-policy", "reject-route", "packet-too-big", "time-exceeded",
    "ttl-zero-during-transit", "ttl-zero-during-reassembly", "parameter-problem", "bad-header",
    "unknown-header-type", "unknown-option", "echo-request", "echo-reply", "router-solicitation",
    "router-advertisement", "neighbour-solicitation", "neighbor-solicitation", "neighbour-advertisement",
    "neighbor-advertisement", "redirect",
)  # fmt: skip
FW_NAME = r"[A-Za-z][A-Za-z0-9\-\_]+"
FW_IPSET_REF = re.compile(rf"\+(?:(dc|guest)/)?({FW_NAME})")
FW_ALIAS_REF = re.compile(rf"(?:(dc|guest)/)?({FW_NAME})")


def _fw_protocol(text: str) -> None:
    if text.isdigit():
        if int(text) > 255:
            raise _FormatError(f"unknown protocol '{text}'\n")
        return
    if text not in FW_PROTOCOLS:
        raise _FormatError(f"unknown protocol '{text}'\n")


def fw_port_list(text: str, *, dport: bool) -> None:
    """``parse_port_name_number_or_range``: numbers, ``A:B`` ranges, service names; at most 15 numbers."""
    elements = text.split(",")
    if "" in elements:
        raise _FormatError("extraneous commas in list\n")
    count, icmp = 0, False
    for item in elements:
        match = re.fullmatch(r"(\d+):(\d+)", item)
        if match:
            count += 2
            first, last = int(match.group(1)), int(match.group(2))
            for port in (first, last):
                if port > 65535:
                    raise _FormatError(f"invalid port '{port}'\n")
            if first > last:
                raise _FormatError(f"backwards range '{item}' not allowed, did you mean '{last}:{first}'?\n")
        elif item.isdigit():
            count += 1
            if int(item) > 65535:
                raise _FormatError(f"invalid port '{item}'\n")
        elif dport and (item in FW_ICMP_TYPES or item in FW_ICMPV6_TYPES):
            icmp = True
        elif item not in FW_SERVICES:
            raise _FormatError(f"invalid port '{item}'\n")
    if icmp and count:
        raise _FormatError("ICMP ports not allowed in port range\n")
    if count > 15:
        raise _FormatError("too many entries in port list (> 15 numbers)\n")


def fw_address_version(text: str) -> int | None:
    """``parse_address_list``: an IP set or alias reference, or IPs / CIDRs / one range, not mixing v4 and v6.
    Returns the IP version (None for a reference)."""
    if text.startswith("+"):
        if not FW_IPSET_REF.fullmatch(text):
            raise _FormatError("malformed ipset name\n")
        return None
    if FW_ALIAS_REF.fullmatch(text):
        return None
    elements = text.split(",")
    if "" in elements:
        raise _FormatError("extraneous commas in list\n")
    version, has_range = None, False
    for element in elements:
        first, sep, last = element.partition("-")
        try:
            if sep:
                has_range = True
                start, end = ipaddress.ip_address(first), ipaddress.ip_address(last)
                if start.version != end.version:
                    raise ValueError(element)
                current = start.version
            else:
                current = ipaddress.ip_network(element, strict=False).version
        except ValueError:
            raise _FormatError(f"invalid address '{element}'\n") from None
        if version is not None and current != version:
            raise _FormatError(f"detected mixed ipv4/ipv6 addresses in address list '{text}'\n")
        version = current
    if has_range and len(elements) > 1:
        raise _FormatError("you can't use a range in a list\n")
    return version


def _fw_address(text: str) -> None:
    fw_address_version(text)


def _fw_icmp_type(text: str) -> None:
    if not (text.isdigit() or text in FW_ICMP_TYPES or text in FW_ICMPV6_TYPES):
        raise _FormatError(f"invalid icmp-type '{text}'\n")


def _ip_or_cidr(text: str, *, alias: bool = False) -> None:
    # Host bits are cleared before the check: 192.168.1.155/24 passes (docs/dev/proxmox-behaviour.md#firewall-ipsets).
    if alias and FW_ALIAS_REF.fullmatch(text):
        return
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise _FormatError("value does not look like a valid IP address or CIDR network\n") from None


_FW_FORMATS = {
    "pve-fw-protocol-spec": _fw_protocol,
    "pve-fw-dport-spec": lambda text: fw_port_list(text, dport=True),
    "pve-fw-sport-spec": lambda text: fw_port_list(text, dport=False),
    "pve-fw-addr-spec": _fw_address,
    "pve-fw-icmp-type-spec": _fw_icmp_type,
    "IPorCIDR": _ip_or_cidr,
    "IPorCIDRorAlias": lambda text: _ip_or_cidr(text, alias=True),
}
