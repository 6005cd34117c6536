"""``vmcloud_alert_policy`` without a platform: validation, create/read/update/delete calls, import, gone."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import vmcloud
from terraform_provider_vmcloud.alert_resources import AlertPolicy
from terraform_provider_vmcloud.provider import VMCloudProvider
from tf.types import Unknown
from tf.utils import Diagnostics

PID = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
SERVER = "6e7f8a9b-0c1d-4e2f-8a3b-4c5d6e7f8a9b"


class Ctx:
    def __init__(self) -> None:
        self.diagnostics = Diagnostics()


class FakeClient:
    """An in-memory alert policy API: records the bodies it was sent."""

    def __init__(self) -> None:
        self.policy: dict[str, Any] | None = None
        self.calls: list[tuple[str, Any]] = []

    def organisations_list_iter(self) -> Any:
        return iter([{"id": 7}])

    def alert_policies_create(self, *, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("create", copy.deepcopy(body)))
        self.policy = {
            "id": PID, "organisation_id": body["organisation_id"], "project_id": body.get("project_id", 2),
            "name": body["name"], "labels": body.get("labels", {}), "metric": body["metric"], "unit": "%",
            "comparison": body["comparison"], "threshold": f"{float(body['threshold']):.2f}",
            "duration_minutes": body.get("duration_minutes", 5), "server_id": body.get("server_id"),
            "label_selector": body.get("label_selector", ""), "email_members": body.get("email_members", True),
            "emails": body.get("emails", []), "portal_notice": body.get("portal_notice", True),
            "webhook_url": body.get("webhook_url", ""), "enabled": body.get("enabled", True),
        }  # fmt: skip
        return {**self.policy, "webhook_secret": "whsec_1"}

    def alert_policies_retrieve(self, policy_id: str) -> dict[str, Any]:
        if self.policy is None or policy_id != PID:
            raise vmcloud.NotFound(404, "not_found", "No such policy.")
        return dict(self.policy)

    def alert_policies_update(self, policy_id: str, *, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("update", copy.deepcopy(body)))
        assert self.policy is not None
        self.policy.update({k: v for k, v in body.items() if k != "threshold"})
        if "threshold" in body:
            self.policy["threshold"] = f"{float(body['threshold']):.2f}"
        if body.get("label_selector"):
            self.policy["server_id"] = None
        return dict(self.policy)

    def alert_policies_rotate_secret(self, policy_id: str) -> dict[str, Any]:
        self.calls.append(("rotate", policy_id))
        assert self.policy is not None
        return {**self.policy, "webhook_secret": "whsec_2"}

    def alert_policies_destroy(self, policy_id: str) -> None:
        self.calls.append(("delete", policy_id))
        self.policy = None


def _resource(client: FakeClient | None = None) -> AlertPolicy:
    provider = VMCloudProvider()
    provider.client = lambda: client  # type: ignore[method-assign,assignment,return-value]
    return AlertPolicy(provider)


def _planned(**values: Any) -> dict[str, Any]:
    planned = _resource().blank()
    planned.update(
        {
            "id": Unknown, "name": "cpu-high", "metric": "cpu", "comparison": "gt", "threshold": 90,
            "duration_minutes": Unknown, "server_id": SERVER, "email_members": Unknown, "portal_notice": Unknown,
            "enabled": Unknown, "project": Unknown, "unit": Unknown, "webhook_secret": Unknown,
        }
    )  # fmt: skip
    planned.update(values)
    return planned


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"name": "x"}, "Set server_id or label_selector (exactly one)"),
        ({"name": "x", "server_id": SERVER, "label_selector": "role=web"}, "not both"),
    ],
)
def test_a_policy_needs_exactly_one_target_at_validation(config, message):
    ctx = Ctx()
    _resource().validate(ctx.diagnostics, "vmcloud_alert_policy", config)
    assert ctx.diagnostics.has_errors() and message in str(ctx.diagnostics.to_pb())
    fine = Ctx()
    _resource().validate(fine.diagnostics, "vmcloud_alert_policy", {"name": "x", "label_selector": "role=web"})
    assert not fine.diagnostics.has_errors()


def test_create_sends_only_known_values_and_keeps_the_secret_and_the_configured_threshold():
    client = FakeClient()
    state = _resource(client).do_create(_planned(labels={"env": "prod"}, emails=["ops@example.com"]), {})
    assert client.calls == [
        (
            "create",
            {
                "organisation_id": 7,
                "name": "cpu-high",
                "metric": "cpu",
                "comparison": "gt",
                "threshold": "90",
                "emails": ["ops@example.com"],
                "webhook_url": "",
                "labels": {"env": "prod"},
                "server_id": SERVER,
            },
        )
    ]
    assert state["threshold"] == 90  # the API's "90.00" is the same number: no diff on the next plan
    assert state["webhook_secret"] == "whsec_1"
    assert (state["unit"], state["project"], state["duration_minutes"], state["enabled"]) == ("%", 2, 5, True)
    assert state["label_selector"] is None and state["webhook_url"] is None  # the API's "" is "unset"
    # A read gives the same state (an empty second plan) and keeps the secret it cannot see.
    assert _resource(client).do_read(state) == state


def test_update_patches_in_place_and_moving_to_a_selector_clears_the_server():
    client = FakeClient()
    resource = _resource(client)
    state = resource.do_create(_planned(), {})
    planned = {**state, "server_id": None, "label_selector": "role=web", "threshold": 75.5, "enabled": False}
    updated = resource.do_update(state, planned)
    assert updated is not None
    kind, body = client.calls[-1]
    assert kind == "update"
    assert (body["server_id"], body["label_selector"], body["threshold"], body["enabled"]) == (
        None,
        "role=web",
        "75.5",
        False,
    )
    assert updated["server_id"] is None and updated["label_selector"] == "role=web"
    assert updated["threshold"] == 75.5 and updated["webhook_secret"] == "whsec_1"
    assert updated["id"] == PID


def test_a_policy_deleted_outside_terraform_is_gone_and_import_reads_it_without_the_secret():
    client = FakeClient()
    resource = _resource(client)
    state = resource.do_create(_planned(threshold=80.25), {})
    imported = resource.do_import(PID)
    assert imported is not None
    assert imported["webhook_secret"] is None and imported["threshold"] == 80.25
    assert imported["server_id"] == SERVER and imported["emails"] is None
    resource.do_delete(state)
    assert client.calls[-1] == ("delete", PID)
    ctx = Ctx()
    assert resource.read(ctx, state) is None  # 404: Terraform drops it and the next plan creates it
    assert not ctx.diagnostics.has_errors()


def test_the_provider_registers_the_resource_with_a_sensitive_secret():
    names = [r.get_name() for r in VMCloudProvider().get_resources()]
    assert "alert_policy" in names
    schema = AlertPolicy.get_schema()
    secret = next(a for a in schema.attributes if a.name == "webhook_secret")
    assert secret.sensitive and secret.computed
    project = next(a for a in schema.attributes if a.name == "project")
    assert project.requires_replace
    assert not next(a for a in schema.attributes if a.name == "server_id").requires_replace


def test_a_webhook_url_set_in_place_rotates_the_unseen_secret_once():
    client = FakeClient()
    resource = _resource(client)
    created = {**resource.do_create(_planned(), {}), "webhook_secret": ""}  # no URL: the API answers no secret
    hooked = resource.do_update(created, {**created, "webhook_url": "https://hooks.example.com/x"})
    assert hooked is not None and hooked["webhook_secret"] == "whsec_2"
    assert [c[0] for c in client.calls] == ["create", "update", "rotate"]
    again = resource.do_update(hooked, {**hooked, "threshold": 95})
    assert again is not None and again["webhook_secret"] == "whsec_2"
    assert [c[0] for c in client.calls] == ["create", "update", "rotate", "update"]
