"""``vmcloud_alert_policy``: an alert policy on a server's metrics (``/api/v1/alert-policies/``).

Every field but the project is changed in place with one ``PATCH``; the target is one
server (``server_id``) or a label selector, and changing either replaces the other.
The webhook signing secret (made when a webhook URL is set) is answered at creation
only; a URL set in place rotates it once to learn it. It is kept in the state as a
sensitive value. A policy deleted outside Terraform answers 404: the next plan creates
it again. Docs page ``/docs/terraform/#alert-policies``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from . import schemas
from .common import labels_out
from .resources import _Base

# The fields sent as they are configured, on create and on a change.
PLAIN = ("name", "metric", "comparison", "email_members", "portal_notice", "enabled")


def _threshold(value: Any) -> str:
    """The API's decimal string for Terraform's number (``90`` → ``"90"``; no float noise)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _same_number(a: Any, b: Any) -> bool:
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except (InvalidOperation, ValueError):
        return False


def _text(api_value: Any, prior: Any) -> str | None:
    """The API answers ``""`` for an unset text; keep ``null`` unless the configuration said ``""``."""
    if api_value:
        return str(api_value)
    return "" if prior == "" else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class AlertPolicy(_Base):
    name = "alert_policy"
    fields = schemas.ALERT_POLICY
    description = (
        "An alert policy: fires when a metric of one server (or of the servers matching a label selector) stays "
        "above or below a threshold, and notifies by e-mail, console notice and signed webhook."
    )

    def validate(self, diags: Any, type_name: str, config: dict[str, Any]) -> None:
        super().validate(diags, type_name, config)
        config = config or {}
        server, selector = config.get("server_id"), config.get("label_selector")
        # Unknown values (another resource's id) are only known at apply: check what is known.
        if server is None and selector is None:
            diags.add_error(
                "vmcloud_alert_policy: no target", "Set server_id or label_selector (exactly one).", path=["server_id"]
            )
        elif isinstance(server, str) and isinstance(selector, str):
            diags.add_error(
                "vmcloud_alert_policy: two targets",
                "Set server_id or label_selector, not both.",
                path=["label_selector"],
            )

    def _body(self, planned: dict[str, Any]) -> dict[str, Any]:
        # Optional computed fields left out of the configuration are unknown at creation: not sent.
        body: dict[str, Any] = {k: planned[k] for k in PLAIN if isinstance(planned.get(k), str | bool)}
        body["threshold"] = _threshold(planned["threshold"])
        if _int(planned.get("duration_minutes")) is not None:
            body["duration_minutes"] = _int(planned["duration_minutes"])
        body["emails"] = list(planned.get("emails") or [])
        body["webhook_url"] = planned.get("webhook_url") or ""
        body["labels"] = planned.get("labels") or {}
        return body

    def do_create(self, planned: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
        body = {"organisation_id": self.provider.organisation_id(), **self._body(planned)}
        if _int(planned.get("project")) is not None:
            body["project_id"] = _int(planned["project"])
        if planned.get("server_id"):
            body["server_id"] = planned["server_id"]
        else:
            body["label_selector"] = planned.get("label_selector") or ""
        created = dict(self.client.alert_policies_create(body=body))  # type: ignore[arg-type]
        partial["id"] = str(created["id"])
        return self._state(created, {**planned, "webhook_secret": created.get("webhook_secret")})

    def _state(self, policy: dict[str, Any], prior: dict[str, Any]) -> dict[str, Any]:
        threshold: Any = prior.get("threshold")
        if not _same_number(threshold, policy["threshold"]):
            value = Decimal(str(policy["threshold"]))
            threshold = int(value) if value == value.to_integral_value() else float(value)
        emails = list(policy.get("emails") or [])
        return {
            "id": str(policy["id"]),
            "name": policy["name"],
            "metric": policy["metric"],
            "comparison": policy["comparison"],
            "threshold": threshold,
            "duration_minutes": int(policy.get("duration_minutes") or 5),
            "server_id": policy.get("server_id") or None,
            "label_selector": _text(policy.get("label_selector"), prior.get("label_selector")),
            "email_members": bool(policy.get("email_members", True)),
            "emails": emails if emails or prior.get("emails") is not None else None,
            "portal_notice": bool(policy.get("portal_notice", True)),
            "webhook_url": policy.get("webhook_url")
            or (prior.get("webhook_url") if prior.get("webhook_url") == "" else None),
            "enabled": bool(policy.get("enabled", True)),
            "project": int(policy["project_id"]),
            "labels": labels_out(policy.get("labels"), prior.get("labels")),
            "unit": policy.get("unit") or "",
            "webhook_secret": prior.get("webhook_secret"),
        }

    def do_read(self, current: dict[str, Any]) -> dict[str, Any] | None:
        return self._state(dict(self.client.alert_policies_retrieve(current["id"])), current)

    def do_update(self, current: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any] | None:
        body = self._body(planned)
        if planned.get("server_id") != current.get("server_id") or planned.get("label_selector") != current.get(
            "label_selector"
        ):
            body["server_id"] = planned.get("server_id") or None
            body["label_selector"] = planned.get("label_selector") or ""
        updated = dict(self.client.alert_policies_update(current["id"], body=body))  # type: ignore[arg-type]
        secret = current.get("webhook_secret")
        if updated.get("webhook_url") and not secret:
            # The API makes a secret when a webhook URL is first set but answers it only at creation and
            # rotation: rotate the one nobody has seen, so the state holds the secret that signs.
            secret = self.client.alert_policies_rotate_secret(current["id"])["webhook_secret"]
        return self._state(updated, {**planned, "webhook_secret": secret})

    def do_delete(self, current: dict[str, Any]) -> None:
        self.client.alert_policies_destroy(current["id"])


ALERT_RESOURCES = (AlertPolicy,)
