"""``vmcloud_service``: a managed service (web hosting, PaaS, load balancer, CDN).

Created through an order (``POST /api/v1/orders/`` with the family's ``service``
object, as ``vmcloud.Client.create_service`` sends it), then read, renamed,
relabelled, protected and moved to another tier under ``/api/v1/services/``;
destroying it cancels it (``DELETE`` with its name typed again: billing stops
at once). A service cancelled or terminated outside Terraform is gone: the next
plan orders a new one. Docs page ``/docs/terraform/#managed-services``.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import vmcloud

from . import schemas
from .common import labels_out, timeout
from .resources import _Base

ENDED = ("cancelled", "terminated")


def _config(text: Any) -> dict[str, Any] | None:
    if text is None or text == "":
        return None
    value = json.loads(text) if isinstance(text, str) else text
    if not isinstance(value, dict):
        raise ValueError('config must be a JSON object, e.g. jsonencode({ domain = "example.com" })')
    return value


class Service(_Base):
    name = "service"
    fields = schemas.SERVICE
    description = (
        "A managed service (web hosting, PaaS, load balancer, CDN), ordered with its family's `config`; "
        "destroying it cancels it (billing stops at once)."
    )
    timeouts: ClassVar[tuple[str, ...]] = ("create",)

    def validate(self, diags: Any, type_name: str, config: dict[str, Any]) -> None:
        super().validate(diags, type_name, config)
        raw = (config or {}).get("config")
        if isinstance(raw, str):
            try:
                _config(raw)
            except ValueError as exc:
                diags.add_error("vmcloud_service: invalid config", str(exc), path=["config"])

    def do_create(self, planned: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
        project = planned.get("project")
        order, service = self.client.create_service(
            name=planned["name"],
            offer=planned["offer"],
            datacentre=planned["datacentre"],
            service=_config(planned.get("config")),
            project=int(project) if isinstance(project, int | float) and not isinstance(project, bool) else None,
        )
        if service is None:
            raise vmcloud.ConfigurationError(
                f"order {order['id']} is {order.get('state')}: the service exists once staff approve the order "
                "(cancel it with `vmcl order cancel`, or apply again later)"
            )
        partial["id"] = str(service["id"])
        changes: dict[str, Any] = {}
        if planned.get("labels"):
            changes["labels"] = planned["labels"]
        if planned.get("delete_protection") is True:
            changes["delete_protection"] = True
        if changes:
            self.client.services_update(partial["id"], body=changes)  # type: ignore[arg-type]
        if planned.get("wait_until_active") is True:
            self.client.wait_service(partial["id"], timeout=timeout(planned, "create"))
        read = self.do_read({**planned, "id": partial["id"], "order_id": str(order["id"])})
        if read is None:
            raise vmcloud.ConfigurationError(f"service {partial['id']} ended during its creation")
        return read

    def do_read(self, current: dict[str, Any]) -> dict[str, Any] | None:
        service = self.client.services_retrieve(current["id"])
        if service["state"] in ENDED:
            return None
        endpoints = service.get("endpoints") or {}
        config = current.get("config")
        if config is None and current.get("order_id") is None:
            # An import: the configuration as ordered (the API never returns its secrets).
            config = (
                json.dumps(service.get("config") or {}, sort_keys=True, separators=(",", ":"))
                if service.get("config")
                else None
            )
        return {
            **self.blank(),
            "timeouts": current.get("timeouts"),
            "id": str(service["id"]),
            "name": service["name"],
            "offer": service["tier"],
            "datacentre": service.get("datacentre") or current.get("datacentre"),
            "config": config,
            "project": int(service["project_id"]),
            "labels": labels_out(service.get("labels"), current.get("labels")),
            "delete_protection": bool(service.get("delete_protection", False)),
            "wait_until_active": current.get("wait_until_active"),
            "family": service["family"],
            "state": service["state"],
            "order_id": current.get("order_id") or "",
            "urls": list(endpoints.get("urls") or []),
            "hostnames": list(endpoints.get("hostnames") or []),
            "price_monthly": str(service.get("price_monthly") or ""),
        }

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
        read = self.do_read({**current, **planned, "id": service_id})
        if read is None:
            raise vmcloud.ConfigurationError(f"service {service_id} ended during the update")
        return read

    def plan(self, ctx: Any, current: dict[str, Any] | None, planned: dict[str, Any]) -> dict[str, Any]:
        if current is not None:
            # Bookkeeping of the provider, not of the API: never a reason for a change.
            planned["order_id"] = current.get("order_id")
            if planned.get("offer") != current.get("offer") or planned.get("name") != current.get("name"):
                from tf.types import Unknown

                planned["state"] = Unknown
                planned["price_monthly"] = Unknown
        return planned

    def do_delete(self, current: dict[str, Any]) -> None:
        service = self.client.services_retrieve(current["id"])
        if service["state"] in ENDED:
            return
        self.client.cancel_service(current["id"], confirm=service["name"], reason="terraform destroy")


MANAGED_RESOURCES = (Service,)
