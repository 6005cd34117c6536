"""Every field of the provider's resources and data sources, declared once.

A ``Field`` is plain data: its name, its Terraform type, whether the user sets it
(required/optional), whether the platform fills it (computed), whether it is secret
(sensitive) and whether changing it needs a new object (``force_new``: only where the
API has no way to change it in place, see the docs page ``/docs/instances/``).
``build_schema`` turns a list of fields into the ``tf`` framework's ``Schema``; a port
to Go would turn the same lists into ``schema.Attribute`` values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tf import types as t
from tf.gen import tfplugin_pb2 as pb
from tf.schema import Attribute, Block, NestedBlock, NestMode, Schema


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # "string", "number", "bool", "map", "set", "list"
    description: str
    required: bool = False
    optional: bool = False
    computed: bool = False
    sensitive: bool = False
    force_new: bool = False


def _tf_type(kind: str) -> t.TfType:
    return {
        "string": t.String(),
        "number": t.Number(),
        "bool": t.Bool(),
        "map": t.Map(t.String()),
        "set": t.Set(t.String()),
        "list": t.List(t.String()),
    }[kind]


class TimeoutsBlock(NestedBlock):
    """The ``timeouts { create = "10m" ... }`` block: a single nested block of duration strings.

    ``tf`` 1.2 ships only set-nested blocks, so the single mode is these few lines.
    """

    def __init__(self, operations: tuple[str, ...]) -> None:
        block = Block(
            attributes=[
                Attribute(op, t.String(), description=f"How long to wait for {op} (e.g. `10m`, `1h`).", optional=True)
                for op in operations
            ]
        )
        super().__init__("timeouts", NestMode.Single, block)
        self.operations = operations

    def to_pb(self) -> pb.Schema.NestedBlock:
        return pb.Schema.NestedBlock(
            type_name=self.type_name, block=self.block.to_pb(), nesting=pb.Schema.NestedBlock.NestingMode.SINGLE
        )

    def encode(self, value: Any) -> Any:
        if value is None:
            return None
        return {op: value.get(op) for op in self.operations}

    def decode(self, value: Any) -> Any:
        return value

    def semantically_equal(self, a_decoded: Any, b_decoded: Any) -> bool:
        return bool(a_decoded == b_decoded)


class ListBlock(NestedBlock):
    """Repeated blocks such as ``rule { ... }`` (Terraform's list nesting mode), of plain attributes.

    Each block is a dictionary with every attribute present (``None`` when unset).
    """

    def __init__(self, name: str, fields: list[Field], *, description: str = "") -> None:
        block = Block(
            attributes=[
                Attribute(
                    f.name,
                    _tf_type(f.type),
                    description=f.description,
                    required=f.required,
                    optional=f.optional,
                    computed=f.computed,
                )
                for f in fields
            ],
            description=description or None,
        )
        super().__init__(name, NestMode.Set, block)
        self.names = tuple(f.name for f in fields)

    def to_pb(self) -> pb.Schema.NestedBlock:
        return pb.Schema.NestedBlock(
            type_name=self.type_name, block=self.block.to_pb(), nesting=pb.Schema.NestedBlock.NestingMode.LIST
        )

    def encode(self, value: Any) -> Any:
        if value is None:
            return []
        if not isinstance(value, list):
            return value
        return [{name: item.get(name) for name in self.names} for item in value]

    def decode(self, value: Any) -> Any:
        return value

    def semantically_equal(self, a_decoded: Any, b_decoded: Any) -> bool:
        return bool(self.encode(a_decoded) == self.encode(b_decoded))


def build_schema(
    fields: list[Field],
    *,
    description: str,
    timeouts: tuple[str, ...] = (),
    version: int = 0,
    blocks: tuple[ListBlock, ...] = (),
) -> Schema:
    attributes = [
        Attribute(
            f.name,
            _tf_type(f.type),
            description=f.description,
            required=f.required,
            optional=f.optional,
            computed=f.computed,
            sensitive=f.sensitive,
            requires_replace=f.force_new,
        )
        for f in fields
    ]
    nested: list[NestedBlock] = [*blocks, *([TimeoutsBlock(timeouts)] if timeouts else [])]
    return Schema(version=version, attributes=attributes, block_types=nested, description=description)


# The provider block.
PROVIDER = [
    Field("url", "string", "API base URL, e.g. `https://api.vmcloud.example`. Default: `VMCLOUD_URL`.", optional=True),
    Field("token", "string", "API token (`vmc_pat_…`). Default: `VMCLOUD_TOKEN`.", optional=True, sensitive=True),
    Field(
        "organisation",
        "number",
        "Organisation id for new SSH keys and projects. Default: `VMCLOUD_ORGANISATION`, else your first organisation.",
        optional=True,
    ),
]

SSH_KEY = [
    Field("id", "string", "SSH key id.", computed=True),
    Field("name", "string", "Name, unique in the organisation.", required=True),
    Field("public_key", "string", "OpenSSH public key.", required=True, force_new=True),
    Field("labels", "map", "Key/value labels.", optional=True),
    Field("organisation_id", "number", "Owning organisation.", optional=True, computed=True, force_new=True),
    Field("fingerprint", "string", "SHA256 fingerprint.", computed=True),
    Field("key_type", "string", "Key algorithm.", computed=True),
]

SERVER = [
    Field("id", "string", "Server id.", computed=True),
    Field("name", "string", "Name and hostname (RFC 1123 label). Changed in place.", required=True),
    Field("offer", "string", "Offer code, e.g. `VPS-NANO`. A larger offer resizes in place.", required=True),
    Field("datacentre", "string", "Datacentre code, e.g. `PAR-1`.", required=True, force_new=True),
    Field(
        "image", "string", "OS image slug. A change rebuilds the server in place (its disk is wiped).", required=True
    ),
    Field(
        "project",
        "number",
        "Project id. Default: the organisation's default project.",
        optional=True,
        computed=True,
        force_new=True,
    ),
    Field("ssh_keys", "set", "SSH key ids installed at creation.", optional=True, force_new=True),
    Field(
        "user_data", "string", "cloud-init user data, used at creation.", optional=True, sensitive=True, force_new=True
    ),
    Field("labels", "map", "Key/value labels. Changed in place.", optional=True),
    Field("delete_protection", "bool", "Refuse deletion while true.", optional=True, computed=True),
    Field("ipv4", "string", "Public IPv4 address.", computed=True),
    Field("ipv6", "string", "Public IPv6 address.", computed=True),
    Field("status", "string", "Lifecycle status (`running`, `stopped`, ...).", computed=True),
    Field("price_monthly", "string", "Monthly price, in the organisation's currency.", computed=True),
]

PROJECT = [
    Field("id", "string", "Project id.", computed=True),
    Field("name", "string", "Name. Changed in place.", required=True),
    Field("description", "string", "Description. Changed in place.", optional=True),
    Field("labels", "map", "Key/value labels. Changed in place.", optional=True),
    Field("organisation_id", "number", "Owning organisation.", optional=True, computed=True, force_new=True),
    Field("slug", "string", "URL slug.", computed=True),
]

SNAPSHOT_SCHEDULE = [
    Field("id", "string", "The server id (one schedule per server).", computed=True),
    Field("server_id", "string", "Server the schedule belongs to.", required=True, force_new=True),
    Field("frequency", "string", "`daily` or `weekly`.", required=True),
    Field("hour", "number", "Hour of the day, UTC.", optional=True, computed=True),
    Field("weekday", "number", "Weekly schedules: 0 = Sunday … 6 = Saturday.", optional=True, computed=True),
    Field("retention", "number", "Scheduled snapshots kept.", optional=True, computed=True),
    Field("enabled", "bool", "Whether the schedule runs.", optional=True, computed=True),
]

PROJECT_ID = Field(
    "project",
    "number",
    "Project id. Default: the organisation's default.",
    optional=True,
    computed=True,
    force_new=True,
)

VOLUME = [
    Field("id", "string", "Volume id.", computed=True),
    Field("name", "string", "Name, unique in the project. Changed in place.", required=True),
    Field("tier", "string", "Storage tier (offer code), e.g. `STORAGE-NVME`.", required=True, force_new=True),
    Field(
        "size",
        "number",
        "Size in GB (10 to 10000). A larger size grows the volume in place (while it is attached: the API grows a "
        "disk through its server); a smaller one is an error at plan time (volumes never shrink).",
        required=True,
    ),
    Field("datacentre", "string", "Datacentre code, e.g. `PAR-1`.", required=True, force_new=True),
    Field(
        "server_id",
        "string",
        "Server to attach the volume to (same project and datacentre); changed in place "
        "(detach, then attach). Unset: detached.",
        optional=True,
    ),
    PROJECT_ID,
    Field("labels", "map", "Key/value labels. Changed in place.", optional=True),
    Field("delete_protection", "bool", "Refuse deletion while true.", optional=True, computed=True),
    Field("status", "string", "`available`, `in_use`, ...", computed=True),
    Field("device_path", "string", "Stable path in the guest while attached (`/dev/disk/by-id/...`).", computed=True),
    Field("price_monthly", "string", "Monthly price, in the organisation's currency.", computed=True),
]

NETWORK = [
    Field("id", "string", "Network id.", computed=True),
    Field("name", "string", "Name, unique in the project. Changed in place.", required=True),
    Field("ip_range", "string", "Private IPv4 range, e.g. `10.0.0.0/16`.", required=True, force_new=True),
    Field("datacentre", "string", "Datacentre code, e.g. `PAR-1`.", required=True, force_new=True),
    Field(
        "subnets",
        "list",
        "Subnet CIDRs inside the range. Default: one subnet, the whole range. Subnets are added and removed in "
        "place (removing one a server has an address in is refused: `subnet_in_use`).",
        optional=True,
        computed=True,
    ),
    PROJECT_ID,
    Field("labels", "map", "Key/value labels. Changed in place.", optional=True),
    Field("status", "string", "`available`, ...", computed=True),
]

NETWORK_ATTACHMENT = [
    Field("id", "string", "`<network_id>/<server_id>`.", computed=True),
    Field("network_id", "string", "The network.", required=True, force_new=True),
    Field("server_id", "string", "The server (same project and datacentre).", required=True, force_new=True),
    Field("ip", "string", "Private address. Default: the next free one.", optional=True, computed=True, force_new=True),
    Field("interface", "string", "The guest's interface for this network.", computed=True),
    Field("needs_reboot", "bool", "True until a running server reboots to see the network.", computed=True),
]

FIREWALL = [
    Field("id", "string", "Firewall id.", computed=True),
    Field("name", "string", "Name, unique in the project. Changed in place.", required=True),
    PROJECT_ID,
    Field("labels", "map", "Key/value labels. Changed in place.", optional=True),
    Field("applied", "bool", "True when every server it reaches has its rules.", computed=True),
]

FIREWALL_RULE = [
    Field("direction", "string", "`in` or `out`.", required=True),
    Field("protocol", "string", "`tcp`, `udp`, `icmp`, `esp` or `gre`.", required=True),
    Field("port", "string", "Port or range (`80`, `8000-8100`): tcp and udp only.", optional=True),
    Field("source_ips", "list", "Inbound: allowed sources (addresses or CIDRs).", optional=True),
    Field("destination_ips", "list", "Outbound: allowed destinations (addresses or CIDRs).", optional=True),
    Field("description", "string", "Free text.", optional=True),
]

FIREWALL_APPLY_TO = [
    Field("server", "string", "A server id (of the firewall's project).", optional=True),
    Field("label_selector", "string", "Every server of the project whose labels match, now and later.", optional=True),
]

FLOATING_IP = [
    Field("id", "string", "Floating IP id.", computed=True),
    Field("name", "string", "Name, unique in the project. Changed in place.", required=True),
    Field(
        "datacentre",
        "string",
        "Datacentre code. Default: the server's (`server_id`).",
        optional=True,
        computed=True,
        force_new=True,
    ),
    Field(
        "server_id",
        "string",
        "Server the address is assigned to; changed in place (the address moves). Unset: unassigned.",
        optional=True,
    ),
    PROJECT_ID,
    Field("labels", "map", "Key/value labels. Changed in place.", optional=True),
    Field("delete_protection", "bool", "Refuse release while true.", optional=True, computed=True),
    Field("address", "string", "The IPv4 address.", computed=True),
    Field("status", "string", "`available`, `assigned`, ...", computed=True),
    Field("price_monthly", "string", "Monthly price, in the organisation's currency.", computed=True),
]

SERVICE = [
    Field("id", "string", "Service id.", computed=True),
    Field("name", "string", "Name, unique among the project's live services. Changed in place.", required=True),
    Field(
        "offer",
        "string",
        "The tier (offer code), e.g. `WEB-START`. Another tier of the same family is changed in place "
        "(the service must be `active`); another family is refused by the API.",
        required=True,
    ),
    Field("datacentre", "string", "Datacentre code, e.g. `PAR-1`.", required=True, force_new=True),
    Field(
        "config",
        "string",
        "The order's `service` object as JSON (`jsonencode({domain = ...})`): the family's fields (docs page "
        "`/docs/ordering/`). Used at creation; a change orders a new service. Secrets in it (PaaS `env` values) "
        "are kept only in the state.",
        optional=True,
        sensitive=True,
        force_new=True,
    ),
    PROJECT_ID,
    Field("labels", "map", "Key/value labels. Changed in place.", optional=True),
    Field(
        "delete_protection", "bool", "Refuse cancellation while true. Changed in place.", optional=True, computed=True
    ),
    Field(
        "wait_until_active",
        "bool",
        "Wait (within `timeouts.create`) until our staff or the backend delivered the service. Default: false "
        "(the service is `provisioning` when apply ends).",
        optional=True,
    ),
    Field("family", "string", "`web_hosting`, `paas`, `load_balancer` or `cdn`.", computed=True),
    Field("state", "string", "`provisioning`, `active`, `changing`, `suspended`, ...", computed=True),
    Field("order_id", "string", "The order that created the service.", computed=True),
    Field("urls", "list", "The service's delivered URLs.", computed=True),
    Field("hostnames", "list", "The service's delivered hostnames.", computed=True),
    Field("price_monthly", "string", "Monthly price, in the organisation's currency.", computed=True),
]

LOAD_BALANCER = [
    Field("id", "string", "The load balancer's service id.", computed=True),
    Field("name", "string", "Name, unique among the project's live services. Changed in place.", required=True),
    Field(
        "offer",
        "string",
        "The tier, e.g. `LB-STARTER`; another load balancer tier is changed in place (the service must be `active`).",
        required=True,
    ),
    Field(
        "datacentre", "string", "Datacentre code, e.g. `PAR-1` (the one of its targets).", required=True, force_new=True
    ),
    PROJECT_ID,
    Field("labels", "map", "Key/value labels. Changed in place.", optional=True),
    Field(
        "delete_protection", "bool", "Refuse cancellation while true. Changed in place.", optional=True, computed=True
    ),
    Field(
        "redirect_http_to_https",
        "bool",
        "Answer plain HTTP with a redirect to HTTPS. Default false. Changed in place.",
        optional=True,
        computed=True,
    ),
    Field(
        "proxy_protocol",
        "bool",
        "Send the PROXY protocol header to the targets. Default false. Changed in place.",
        optional=True,
        computed=True,
    ),
    Field(
        "tls_mode",
        "string",
        "`terminate` (HTTPS ends on the load balancer, with `certificate`), `passthrough`, or empty. Default: what "
        "the rules imply. Changed in place.",
        optional=True,
        computed=True,
    ),
    Field(
        "certificate",
        "string",
        "TLS certificate (PEM) for HTTPS rules, with `private_key`; a new one is uploaded in place. A certificate "
        "replaced outside Terraform (another fingerprint) shows as a change.",
        optional=True,
        sensitive=True,
    ),
    Field("certificate_chain", "string", "Intermediate certificates (PEM), sent with `certificate`.", optional=True),
    Field(
        "private_key",
        "string",
        "The certificate's private key (PEM). Kept only in the state.",
        optional=True,
        sensitive=True,
    ),
    Field("certificate_fingerprint", "string", "SHA-256 fingerprint of the certificate in use.", computed=True),
    Field("certificate_names", "list", "Names the certificate in use covers.", computed=True),
    Field("certificate_not_after", "string", "When the certificate in use expires.", computed=True),
    Field("state", "string", "`provisioning`, `active`, `changing`, `suspended`, ...", computed=True),
    Field("urls", "list", "The load balancer's public URLs (one per rule).", computed=True),
    Field("hostnames", "list", "Its public hostnames, if any.", computed=True),
    Field("applied_target_ids", "list", "Servers the running configuration forwards to.", computed=True),
    Field("price_monthly", "string", "Monthly price, in the organisation's currency.", computed=True),
]

LB_RULE = [
    Field(
        "protocol",
        "string",
        "`HTTP`, `HTTPS`, `TCP`, `UDP`, `WebSocket`, `gRPC` or `HTTP/3`, as the tier allows.",
        required=True,
    ),
    Field("port", "number", "Entry port (each once).", required=True),
    Field("target_protocol", "string", "Protocol towards the targets (`HTTP`, `HTTPS`, `TCP`, `UDP`).", required=True),
    Field("target_port", "number", "Port on the targets.", required=True),
]

LB_TARGET = [
    Field("server_id", "string", "A server id (of the load balancer's organisation).", optional=True),
    Field(
        "label_selector", "string", "Every server whose labels match, now and later (e.g. `role=web`).", optional=True
    ),
]

LB_HEALTH_CHECK = [
    Field("protocol", "string", "`tcp`, `http` or `https`. Default `tcp`.", optional=True),
    Field("port", "number", "Port checked. Default: each rule's target port.", optional=True),
    Field("path", "string", "HTTP(S) path. Default `/`.", optional=True),
    Field("host", "string", "HTTP(S) Host header. Default none.", optional=True),
    Field("interval_seconds", "number", "Seconds between checks. Default 5.", optional=True),
    Field("timeout_seconds", "number", "Seconds before a check fails. Default 3.", optional=True),
    Field("rise", "number", "Successes before a target is up. Default 2.", optional=True),
    Field("fall", "number", "Failures before a target is down. Default 3.", optional=True),
]

LB_STICKY = [
    Field("cookie_name", "string", "Cookie that pins a client to a target. Default `LBSTICKY`.", optional=True),
    Field("ttl_seconds", "number", "Cookie lifetime in seconds. Default 3600.", optional=True),
]

ALERT_POLICY = [
    Field("id", "string", "Alert policy id.", computed=True),
    Field("name", "string", "Name. Changed in place.", required=True),
    Field(
        "metric",
        "string",
        "`cpu`, `memory`, `disk` (%), `network_in` or `network_out` (bytes/s). Changed in place.",
        required=True,
    ),
    Field("comparison", "string", "`gt` (above) or `lt` (below). Changed in place.", required=True),
    Field(
        "threshold",
        "number",
        "% (0 to 100) for cpu, memory and disk; bytes per second for the network metrics. Changed in place.",
        required=True,
    ),
    Field(
        "duration_minutes",
        "number",
        "Minutes the average must hold: 5, 10, 30 or 60. Default 5. Changed in place.",
        optional=True,
        computed=True,
    ),
    Field(
        "server_id",
        "string",
        "Watch this server; or give `label_selector` (exactly one of the two). Changed in place.",
        optional=True,
    ),
    Field(
        "label_selector",
        "string",
        "Watch the project's servers whose labels match, now and later (e.g. `role=web`). Changed in place.",
        optional=True,
    ),
    Field("email_members", "bool", "E-mail the organisation's members. Default true.", optional=True, computed=True),
    Field("emails", "list", "Further addresses to e-mail (at most 10).", optional=True),
    Field("portal_notice", "bool", "Show a notice in the console. Default true.", optional=True, computed=True),
    Field("webhook_url", "string", "POST a signed JSON body here when it fires and resolves.", optional=True),
    Field("enabled", "bool", "Evaluated while true. Default true.", optional=True, computed=True),
    PROJECT_ID,
    Field("labels", "map", "Key/value labels. Changed in place.", optional=True),
    Field("unit", "string", "The threshold's unit: `%` or `bytes/s`.", computed=True),
    Field(
        "webhook_secret",
        "string",
        "Signs the webhooks (`X-VMCloud-Signature`); empty without a `webhook_url`. Known from creation, or from "
        "the apply that first sets `webhook_url` (it rotates the unseen secret); null after an import, and a "
        "rotation outside Terraform (`vmcl alert-policy rotate-secret`) leaves the old value here.",
        computed=True,
        sensitive=True,
    ),
]

# Data sources: filters in, a list of objects out (their attribute names below).
OFFER_ITEM = ("code", "name", "family", "price_monthly", "price_hourly")
IMAGE_ITEM = ("slug", "distribution", "version", "os_type")
DATACENTRE_ITEM = ("code", "name", "city", "country", "status")
SERVER_ITEM = ("id", "name", "offer", "datacentre", "image", "status", "ipv4", "ipv6")
SSH_KEY_ITEM = ("id", "name", "fingerprint", "public_key")
VOLUME_ITEM = ("id", "name", "tier", "size_gb", "datacentre", "status", "server_id", "device_path")
NETWORK_ITEM = ("id", "name", "ip_range", "datacentre", "status")
FIREWALL_ITEM = ("id", "name", "status")
FLOATING_IP_ITEM = ("id", "name", "address", "datacentre", "status", "server_id")
SERVICE_ITEM = ("id", "name", "family", "tier", "state", "datacentre", "price_monthly")


class ObjectList(t.TfType):
    """``list(object({...}))`` of string attributes: the result lists of the data sources."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def encode(self, value: Any) -> Any:
        return value

    def decode(self, value: Any) -> Any:
        return value

    def tf_type(self) -> bytes:
        import json

        return json.dumps(["list", ["object", dict.fromkeys(self.names, "string")]]).encode()


def build_data_schema(
    filters: list[Field], *, results: str, item: tuple[str, ...], keys: str, description: str
) -> Schema:
    attributes = [Attribute(f.name, _tf_type(f.type), description=f.description, optional=True) for f in filters] + [
        Attribute(results, ObjectList(item), description=f"Matching objects ({', '.join(item)}).", computed=True),
        Attribute(keys, t.List(t.String()), description=f"The `{item[0]}` of each, in the same order.", computed=True),
    ]
    return Schema(version=0, attributes=attributes, description=description)
