"""The firewalls API: status codes, field errors (``rules[3].port``), label selectors, quotas, permissions.

Service-level only (no Proxmox): the apply task is enqueued on commit, which these tests do not run.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.firewalls.models import Firewall, FirewallQuota, FirewallServer
from apps.instances.models import Action
from tests.factories import server_row
from tests.firewalls.conftest import SSH, WEB

pytestmark = pytest.mark.django_db
URL = "/api/v1/firewalls/"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _body(personas, **extra):
    body = {"organisation_id": personas.org.pk, "name": "web", "rules": [WEB]}
    body.update(extra)
    return body


def test_create_with_rules_and_apply_to_then_list_get_patch_and_actions(shop, personas):
    server = server_row(personas, shop, labels={"env": "prod"})
    owner = _client(personas.owner)
    response = owner.post(
        URL,
        _body(
            personas,
            labels={"tier": "web"},
            apply_to=[
                {"type": "server", "server": {"id": str(server.public_id)}},
                {"type": "label_selector", "label_selector": {"selector": "env=prod"}},
            ],
        ),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    firewall = body["firewall"]
    assert [a["type"] for a in body["actions"]] == ["apply"]
    assert body["actions"][0]["resource"] == {"type": "firewall", "id": firewall["id"]}
    assert firewall["applied"] is False and firewall["rules"][0]["port"] == "80"
    assert firewall["applied_to"] == [
        {"type": "server", "server": {"id": str(server.public_id)}, "status": "pending"},
        {
            "type": "label_selector",
            "label_selector": {"selector": "env=prod"},
            "applied_to_resources": [{"type": "server", "server": {"id": str(server.public_id)}, "status": "pending"}],
        },
    ]
    owner.post(URL, _body(personas, name="other", labels={"tier": "db"}), format="json")
    listed = owner.get(URL, {"label_selector": "tier=web"})
    assert [row["id"] for row in listed.json()["results"]] == [firewall["id"]]
    patched = owner.patch(f"{URL}{firewall['id']}/", {"name": "front"}, format="json")
    assert patched.status_code == 200 and patched.json()["name"] == "front"
    assert owner.get(f"{URL}{firewall['id']}/").json()["name"] == "front"
    actions = owner.get(f"{URL}{firewall['id']}/actions/")
    assert actions.status_code == 200 and actions.json()["results"][0]["type"] == "apply"


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({**WEB, "port": "0"}, "rules[1].port"),
        ({**WEB, "port": "70000"}, "rules[1].port"),
        ({**WEB, "port": "90-80"}, "rules[1].port"),
        ({**WEB, "source_ips": ["10.0.0.0/33"]}, "rules[1].source_ips[0]"),
        ({**WEB, "source_ips": ["nonsense"]}, "rules[1].source_ips[0]"),
        ({"direction": "in", "protocol": "icmp", "port": "80", "source_ips": ["0.0.0.0/0"]}, "rules[1].port"),
        ({"direction": "in", "protocol": "ah", "source_ips": ["0.0.0.0/0"]}, "rules[1].protocol"),
    ],
)
def test_bad_rules_are_400_naming_the_field(shop, personas, rule, field):
    response = _client(personas.owner).post(URL, _body(personas, rules=[SSH, rule]), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"], response.json()
    assert not Firewall.objects.exists()


def test_too_many_rules_is_400_and_the_rule_quota_409(shop, personas):
    owner = _client(personas.owner)
    response = owner.post(URL, _body(personas, rules=[WEB] * 51), format="json")
    assert response.status_code == 400 and "rules" in response.json()["error"]["fields"]
    FirewallQuota.objects.create(organisation=personas.org, max_firewalls=1, max_rules_per_firewall=2)
    response = owner.post(URL, _body(personas, rules=[WEB] * 3), format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "quota_exceeded"
    assert owner.post(URL, _body(personas), format="json").status_code == 201
    response = owner.post(URL, _body(personas, name="second"), format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "quota_exceeded"


def test_set_rules_apply_remove_and_delete_return_the_action(shop, personas):
    server = server_row(personas, shop)
    owner = _client(personas.owner)
    firewall_id = owner.post(URL, _body(personas), format="json").json()["firewall"]["id"]
    base = f"{URL}{firewall_id}/actions/"
    bad = owner.post(f"{base}set_rules/", {"rules": [WEB, {**WEB, "port": "1-2-3"}]}, format="json")
    assert bad.status_code == 400 and "rules[1].port" in bad.json()["error"]["fields"]
    response = owner.post(f"{base}set_rules/", {"rules": [SSH]}, format="json")
    assert response.status_code == 202 and response.json()["type"] == "apply"
    target = [{"type": "server", "server": {"id": str(server.public_id)}}]
    response = owner.post(f"{base}apply_to_resources/", {"apply_to": target}, format="json")
    assert response.status_code == 202
    assert FirewallServer.objects.get().direct
    response = owner.post(f"{base}remove_from_resources/", {"remove_from": target}, format="json")
    assert response.status_code == 202 and FirewallServer.objects.get().status == "removing"
    response = owner.delete(f"{URL}{firewall_id}/")
    assert response.status_code == 202 and response.json()["type"] == "delete"
    assert Firewall.objects.get().status == "deleting"
    assert owner.post(f"{base}set_rules/", {"rules": [SSH]}, format="json").status_code == 409
    assert Action.objects.filter(resource_type="firewall").count() == 4


def test_viewer_is_403_and_outsider_404(shop, personas):
    firewall_id = _client(personas.owner).post(URL, _body(personas), format="json").json()["firewall"]["id"]
    viewer = _client(personas.viewer)
    assert viewer.get(f"{URL}{firewall_id}/").status_code == 200
    assert viewer.post(f"{URL}{firewall_id}/actions/set_rules/", {"rules": []}, format="json").status_code == 403
    outsider = _client(personas.outsider)
    assert outsider.get(f"{URL}{firewall_id}/").status_code == 404
    assert outsider.get(URL).json()["results"] == []


def test_a_server_of_another_project_or_organisation_is_refused(shop, personas):
    owner = _client(personas.owner)
    firewall_id = owner.post(URL, _body(personas), format="json").json()["firewall"]["id"]
    foreign = server_row(personas, shop, name="x", organisation=personas.other_org, project=personas.other_project)
    target = [{"type": "server", "server": {"id": str(foreign.public_id)}}]
    response = owner.post(f"{URL}{firewall_id}/actions/apply_to_resources/", {"apply_to": target}, format="json")
    assert response.status_code == 404
    bad_selector = [{"type": "label_selector", "label_selector": {"selector": "a in (b"}}]
    response = owner.post(f"{URL}{firewall_id}/actions/apply_to_resources/", {"apply_to": bad_selector}, format="json")
    assert response.status_code == 400


def test_a_selector_covers_a_server_still_provisioning_and_applies_when_it_runs(shop, personas):
    server = server_row(personas, shop, status="provisioning", vmid=None, labels={"role": "web"})
    owner = _client(personas.owner)
    selector = [{"type": "label_selector", "label_selector": {"selector": "role=web"}}]
    body = owner.post(URL, _body(personas, apply_to=selector), format="json").json()
    member = FirewallServer.objects.get()
    assert member.instance == server and member.selected and member.status == "pending"
    from apps.firewalls.services import firewalls_server_status_changed

    firewalls_server_status_changed(sender=None, instance_id=server.pk, before="provisioning", after="running")
    latest = Action.objects.filter(resource_type="firewall", resource_id=body["firewall"]["id"]).first()
    assert latest.params["server_ids"] == [server.pk] and latest.params["reason"] == "server_started"
    # Deleted: dropped from the firewall, which keeps existing.
    firewalls_server_status_changed(sender=None, instance_id=server.pk, before="deleting", after="deleted")
    assert not FirewallServer.objects.exists() and Firewall.objects.get().status == "active"


def test_a_server_uses_at_most_five_firewalls_by_id_or_selector(shop, personas):
    server = server_row(personas, shop, labels={"env": "prod"})
    owner = _client(personas.owner)
    target = [{"type": "server", "server": {"id": str(server.public_id)}}]
    for n in range(5):
        assert owner.post(URL, _body(personas, name=f"fw{n}", apply_to=target), format="json").status_code == 201
    selector = [{"type": "label_selector", "label_selector": {"selector": "env=prod"}}]
    response = owner.post(URL, _body(personas, name="sixth", apply_to=selector), format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "server_firewall_limit"
    assert Firewall.objects.count() == 5
