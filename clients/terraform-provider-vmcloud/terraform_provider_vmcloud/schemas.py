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


def build_schema(fields: list[Field], *, description: str, timeouts: tuple[str, ...] = (), version: int = 0) -> Schema:
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
    blocks: list[NestedBlock] = [TimeoutsBlock(timeouts)] if timeouts else []
    return Schema(version=version, attributes=attributes, block_types=blocks, description=description)


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

# Data sources: filters in, a list of objects out (their attribute names below).
OFFER_ITEM = ("code", "name", "family", "price_monthly", "price_hourly")
IMAGE_ITEM = ("slug", "distribution", "version", "os_type")
DATACENTRE_ITEM = ("code", "name", "city", "country", "status")
SERVER_ITEM = ("id", "name", "offer", "datacentre", "image", "status", "ipv4", "ipv6")
SSH_KEY_ITEM = ("id", "name", "fingerprint", "public_key")


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
