"""Data sources: the catalogue (offers, images, datacentres) and your servers and SSH keys."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from tf.iface import ReadDataContext
from tf.schema import Schema

from . import schemas
from .common import Failed, reporting

if TYPE_CHECKING:
    import vmcloud

    from .provider import VMCloudProvider


class _List:
    name: ClassVar[str]
    description: ClassVar[str]
    filters: ClassVar[list[schemas.Field]] = []
    results: ClassVar[str]
    keys: ClassVar[str]
    item: ClassVar[tuple[str, ...]]

    def __init__(self, provider: VMCloudProvider) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return cls.name

    @classmethod
    def get_schema(cls) -> Schema:
        return schemas.build_data_schema(
            cls.filters, results=cls.results, item=cls.item, keys=cls.keys, description=cls.description
        )

    def validate(self, diags: Any, type_name: str, config: dict[str, Any]) -> None:
        pass

    def fetch(self, client: vmcloud.Client, config: dict[str, Any]) -> Iterable[dict[str, Any]]:
        raise NotImplementedError

    def read(self, ctx: ReadDataContext, config: dict[str, Any]) -> dict[str, Any] | None:
        config = config or {}
        try:
            with reporting(ctx.diagnostics, f"read {self.name}"):
                rows = list(self.fetch(self.provider.client(), config))
        except Failed:
            return None
        items = [{key: _text(row.get(key)) for key in self.item} for row in rows]
        state = {f.name: config.get(f.name) for f in self.filters}
        state[self.results] = items
        state[self.keys] = [item[self.item[0]] for item in items]
        return state


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _filters(config: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: config[name] for name in names if config.get(name) not in (None, "")}


class Offers(_List):
    name = "offers"
    description = "Offers of the catalogue, optionally those of one datacentre or family."
    filters = [
        schemas.Field("datacentre", "string", "Only offers orderable in this datacentre."),
        schemas.Field("family", "string", "Only this family (e.g. `vps`, `gpu`)."),
    ]
    results, keys, item = "offers", "codes", schemas.OFFER_ITEM

    def fetch(self, client: vmcloud.Client, config: dict[str, Any]) -> Iterable[dict[str, Any]]:
        return client.catalogue_offers_list_iter(**_filters(config, "datacentre", "family"))  # type: ignore[arg-type]


class Images(_List):
    name = "images"
    description = "OS images that can be ordered."
    results, keys, item = "images", "slugs", schemas.IMAGE_ITEM

    def fetch(self, client: vmcloud.Client, config: dict[str, Any]) -> Iterable[dict[str, Any]]:
        return client.catalogue_images_list_iter()  # type: ignore[return-value]


class Datacentres(_List):
    name = "datacentres"
    description = "Datacentres."
    results, keys, item = "datacentres", "codes", schemas.DATACENTRE_ITEM

    def fetch(self, client: vmcloud.Client, config: dict[str, Any]) -> Iterable[dict[str, Any]]:
        return client.catalogue_datacentres_list_iter()  # type: ignore[return-value]


class Servers(_List):
    name = "servers"
    description = "Your servers, optionally filtered by label selector or name."
    filters = [
        schemas.Field("label_selector", "string", "e.g. `env=prod,tier!=db`."),
        schemas.Field("name", "string", "Exact name."),
    ]
    results, keys, item = "servers", "ids", schemas.SERVER_ITEM

    def fetch(self, client: vmcloud.Client, config: dict[str, Any]) -> Iterable[dict[str, Any]]:
        rows = client.instances_list_iter(**_filters(config, "label_selector", "name"))  # type: ignore[arg-type]
        return (row for row in rows if row.get("status") not in ("deleting", "deleted"))  # type: ignore[misc]


class SshKeys(_List):
    name = "ssh_keys"
    description = "Your organisation's SSH keys, optionally filtered by label selector or name."
    filters = [
        schemas.Field("label_selector", "string", "e.g. `team=ops`."),
        schemas.Field("name", "string", "Exact name."),
    ]
    results, keys, item = "ssh_keys", "ids", schemas.SSH_KEY_ITEM

    def fetch(self, client: vmcloud.Client, config: dict[str, Any]) -> Iterable[dict[str, Any]]:
        return client.ssh_keys_list_iter(**_filters(config, "label_selector", "name"))  # type: ignore[arg-type]


class _Labelled(_List):
    """A list of one kind of your objects, by label selector or name; deleted ones are left out."""

    filters = [
        schemas.Field("label_selector", "string", "e.g. `env=prod`."),
        schemas.Field("name", "string", "Exact name."),
    ]
    results, keys = "", "ids"
    operation: ClassVar[str]
    gone: ClassVar[tuple[str, ...]] = ("deleting", "deleted")

    def fetch(self, client: vmcloud.Client, config: dict[str, Any]) -> Iterable[dict[str, Any]]:
        rows = getattr(client, f"{self.operation}_iter")(**_filters(config, "label_selector", "name"))
        return (dict(row) for row in rows if row.get("status") not in self.gone)


class Volumes(_Labelled):
    name = "volumes"
    description = "Your block storage volumes, optionally filtered by label selector or name."
    results, item, operation = "volumes", schemas.VOLUME_ITEM, "volumes_list"


class Networks(_Labelled):
    name = "networks"
    description = "Your private networks, optionally filtered by label selector or name."
    results, item, operation = "networks", schemas.NETWORK_ITEM, "networks_list"


class Firewalls(_Labelled):
    name = "firewalls"
    description = "Your firewalls, optionally filtered by label selector or name."
    results, item, operation = "firewalls", schemas.FIREWALL_ITEM, "firewalls_list"


class FloatingIps(_Labelled):
    name = "floating_ips"
    description = "Your floating IPs, optionally filtered by label selector or name."
    results, item, operation = "floating_ips", schemas.FLOATING_IP_ITEM, "floating_ips_list"
    gone = ("releasing", "released")


class Services(_List):
    name = "services"
    description = "Your managed services, optionally filtered by label selector, name or family; ended ones left out."
    filters = [
        schemas.Field("label_selector", "string", "e.g. `env=prod`."),
        schemas.Field("name", "string", "Exact name."),
        schemas.Field("family", "string", "`web_hosting`, `paas`, `load_balancer` or `cdn`."),
    ]
    results, keys, item = "services", "ids", schemas.SERVICE_ITEM

    def fetch(self, client: vmcloud.Client, config: dict[str, Any]) -> Iterable[dict[str, Any]]:
        query = _filters(config, "label_selector", "name", "family")
        if "family" in query:
            query["family"] = [query["family"]]
        rows = client.services_list_iter(**query)
        return (dict(row) for row in rows if row["state"] not in ("cancelled", "terminated"))


DATA_SOURCES = (
    Offers,
    Images,
    Datacentres,
    Servers,
    SshKeys,
    Volumes,
    Networks,
    Firewalls,
    FloatingIps,
    Services,
)
