"""The managed services API (/api/v1/services/): the role matrix, filters, cancel, tier change, credentials."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.core.models import AuditEvent
from apps.managed.choices import ServiceState
from apps.managed.models import ManagedService
from tests.managed.factories import service_row, tier_offer

URL = "/api/v1/services/"
pytestmark = pytest.mark.django_db


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_list_filters_by_family_state_and_label_selector(personas, shop):
    prod = service_row(personas, shop, name="prod", labels={"env": "prod"})
    dev = service_row(personas, shop, name="dev", labels={"env": "dev"}, active=False)
    owner = _client(personas.owner)
    body = owner.get(URL).json()
    assert {r["id"] for r in body["results"]} == {str(prod.public_id), str(dev.public_id)}
    assert [r["id"] for r in owner.get(URL, {"label_selector": "env=prod"}).json()["results"]] == [str(prod.public_id)]
    assert [r["name"] for r in owner.get(URL, {"state": "provisioning"}).json()["results"]] == ["dev"]
    assert len(owner.get(URL, {"family": "web_hosting"}).json()["results"]) == 2
    assert owner.get(URL, {"family": "cdn"}).json()["results"] == []
    assert owner.get(URL, {"family": "nope"}).status_code == 400
    assert owner.get(URL, {"bogus": "1"}).status_code == 400
    row = owner.get(f"{URL}{prod.public_id}/").json()
    assert row["tier"] == shop.service.code and row["state"] == "active" and row["family"] == "web_hosting"
    assert row["endpoints"] == {"urls": ["https://example.com"], "hostnames": ["example.com"]}
    assert row["credentials"] == [{"name": "sftp_password", "revealed_at": None}]
    assert "s3cret" not in str(row)


def test_list_query_count_does_not_grow_with_rows(personas, shop):
    owner = _client(personas.owner)
    service_row(personas, shop, name="a")
    with CaptureQueriesContext(connection) as one:
        assert owner.get(URL).status_code == 200
    for name in ("b", "c", "d"):
        service_row(personas, shop, name=name)
    with CaptureQueriesContext(connection) as four:
        assert len(owner.get(URL).json()["results"]) == 4
    assert len(four.captured_queries) == len(one.captured_queries)


def test_anonymous_outsider_and_viewer_matrix(personas, shop):
    service = service_row(personas, shop)
    detail = f"{URL}{service.public_id}/"
    assert _client().get(detail).status_code in (401, 403)
    outsider = _client(personas.outsider)
    assert outsider.get(detail).status_code == 404
    assert outsider.get(URL).json()["results"] == []
    assert outsider.delete(f"{detail}?confirm={service.name}").status_code == 404
    viewer = _client(personas.viewer)
    assert viewer.get(detail).status_code == 200
    assert viewer.get(f"{detail}transitions/").status_code == 200
    assert viewer.patch(detail, {"name": "x"}, format="json").status_code == 403
    assert viewer.delete(f"{detail}?confirm={service.name}").status_code == 403
    assert viewer.post(f"{detail}actions/reveal_credentials/").status_code == 403
    assert viewer.post(f"{detail}actions/change_tier/", {"tier": "X"}, format="json").status_code == 403
    assert ManagedService.objects.get(pk=service.pk).state == ServiceState.ACTIVE


def test_patch_then_cancel_with_typed_confirmation(personas, shop):
    service = service_row(personas, shop)
    member = _client(personas.member)
    detail = f"{URL}{service.public_id}/"
    patched = member.patch(detail, {"name": "shop", "labels": {"a": "b"}, "delete_protection": True}, format="json")
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["name"], patched.json()["labels"], patched.json()["delete_protection"]) == (
        "shop",
        {"a": "b"},
        True,
    )
    wrong = member.delete(f"{detail}?confirm=site-1")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "confirmation_mismatch"
    missing = member.delete(detail)
    assert missing.status_code == 400 and "confirm" in missing.json()["error"]["fields"]
    protected = member.delete(f"{detail}?confirm=shop")
    assert protected.status_code == 409 and protected.json()["error"]["code"] == "delete_protected"
    member.patch(detail, {"delete_protection": False}, format="json")
    cancelled = member.delete(detail, {"confirm": "shop", "reason": "moving"}, format="json")
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["state"] == "cancelled" and cancelled.json()["ended_at"]
    again = member.delete(f"{detail}?confirm=shop")
    assert again.status_code == 409 and again.json()["error"]["code"] == "service_ended"
    transitions = member.get(f"{detail}transitions/").json()["results"]
    assert [(t["from_state"], t["to_state"]) for t in transitions] == [
        ("", "provisioning"),
        ("provisioning", "active"),
        ("active", "cancelled"),
    ]
    assert transitions[-1]["by"] == personas.member.email and transitions[-1]["reason"] == "moving"


def test_reveal_credentials_once(personas, shop):
    service = service_row(personas, shop)
    owner = _client(personas.owner)
    url = f"{URL}{service.public_id}/actions/reveal_credentials/"
    first = owner.post(url)
    assert first.status_code == 200 and first.json() == {"credentials": {"sftp_password": "s3cret"}}
    assert first["Cache-Control"] == "no-store"
    second = owner.post(url)
    assert second.status_code == 409 and second.json()["error"]["code"] == "service_credentials_already_revealed"
    assert AuditEvent.objects.filter(action="managed.service.credentials_reveal").count() == 1
    assert owner.get(f"{URL}{service.public_id}/").json()["credentials"][0]["revealed_at"] is not None


def test_change_tier(personas, shop):
    service = service_row(personas, shop)
    pro = tier_offer(shop)
    owner = _client(personas.owner)
    url = f"{URL}{service.public_id}/actions/change_tier/"
    assert owner.post(url, {"tier": "NOPE"}, format="json").status_code == 400
    assert owner.post(url, {"tier": shop.vps.code}, format="json").json()["error"]["code"] == (
        "service_tier_family_mismatch"
    )
    changed = owner.post(url, {"tier": pro.code}, format="json")
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["tier"], changed.json()["state"], changed.json()["price_hourly"]) == (
        pro.code,
        "changing",
        "0.020000",
    )
    assert owner.post(url, {"tier": shop.service.code}, format="json").status_code == 409
