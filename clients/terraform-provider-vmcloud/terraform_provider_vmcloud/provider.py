"""The provider block and the registry of resources and data sources."""

from __future__ import annotations

import os

import vmcloud
from tf.iface import Config, DataSource, Provider, Resource
from tf.schema import Schema
from tf.utils import Diagnostics

from . import schemas

# The provider's address; users write `source = "vmcloud.example/vmcloud/vmcloud"` (docs page /docs/terraform/).
HOSTNAME = "vmcloud.example"
NAMESPACE = "vmcloud"
TYPE = "vmcloud"
FULL_NAME = f"{HOSTNAME}/{NAMESPACE}/{TYPE}"


class VMCloudProvider(Provider):
    def __init__(self) -> None:
        self.url = ""
        self.token = ""
        self.organisation: int | None = None
        self._client: vmcloud.Client | None = None

    def get_model_prefix(self) -> str:
        return "vmcloud_"

    def full_name(self) -> str:
        return FULL_NAME

    def get_provider_schema(self, diags: Diagnostics) -> Schema:
        return schemas.build_schema(schemas.PROVIDER, description="The VMCloud platform.")

    def validate_config(self, diags: Diagnostics, config: Config) -> None:
        pass

    def configure_provider(self, diags: Diagnostics, config: Config) -> None:
        config = config or {}
        self.url = config.get("url") or os.environ.get("VMCLOUD_URL", "")
        self.token = config.get("token") or os.environ.get("VMCLOUD_TOKEN", "")
        organisation = config.get("organisation") or os.environ.get("VMCLOUD_ORGANISATION")
        self.organisation = int(organisation) if organisation else None
        if not self.url or not self.token:
            diags.add_error(
                "VMCloud provider not configured",
                "Set `url` and `token` in the provider block, or VMCLOUD_URL and VMCLOUD_TOKEN.",
            )

    def client(self) -> vmcloud.Client:
        if self._client is None:
            self._client = vmcloud.Client(self.url, self.token, user_agent=f"terraform-provider-vmcloud/{_version()}")
        return self._client

    def organisation_id(self) -> int:
        if self.organisation is None:
            organisations = list(self.client().organisations_list_iter())
            if not organisations:
                raise vmcloud.ConfigurationError("this token sees no organisation")
            self.organisation = int(organisations[0]["id"])
        return self.organisation

    def get_data_sources(self) -> list[type[DataSource]]:
        from .data_sources import DATA_SOURCES
        from .lb_resources import LB_DATA_SOURCES

        return [*DATA_SOURCES, *LB_DATA_SOURCES]

    def get_resources(self) -> list[type[Resource]]:
        from .alert_resources import ALERT_RESOURCES
        from .cloud_resources import CLOUD_RESOURCES
        from .lb_resources import LB_RESOURCES
        from .managed_resources import MANAGED_RESOURCES
        from .resources import RESOURCES

        return [*RESOURCES, *CLOUD_RESOURCES, *MANAGED_RESOURCES, *LB_RESOURCES, *ALERT_RESOURCES]


def _version() -> str:
    from . import __version__

    return __version__
