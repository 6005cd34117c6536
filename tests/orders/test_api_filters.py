"""Orders list filters (strict query parameters), bounded integers, and the Action in the create response."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.instances.models import Action
from apps.orders.models import Order
from tests.orders.test_api import ORDERS, body, client_for

pytestmark = pytest.mark.django_db


def test_order_create_answers_with_the_action_that_builds_the_server(personas, shop):
    response = client_for(personas.member).post(ORDERS, body(personas, shop), format="json")
    assert response.status_code == 202, response.content
    data = response.json()
    action = Action.objects.get(instance__public_id=data["instance"], type="create")
    assert data["action"]["id"] == str(action.public_id)
    assert data["action"]["type"] == "create" and data["action"]["instance_id"] == data["instance"]
    link = data["links"]["actions"][0]
    assert (link["id"], link["rel"]) == (str(action.public_id), "create")
    assert link["href"].endswith(f"/api/v1/actions/{action.public_id}/")
    # The link is the Action itself, readable by the client.
    polled = client_for(personas.member).get(link["href"])
    assert polled.status_code == 200 and polled.json()["id"] == str(action.public_id)


def test_order_awaiting_approval_has_no_action_yet(personas, shop, settings):
    settings.ORDERS_APPROVAL_GPU = True
    response = client_for(personas.member).post(ORDERS, body(personas, shop, offer=shop.gpu.code), format="json")
    assert response.status_code == 201
    assert response.json()["action"] is None and response.json()["links"] == {"actions": []}


def test_order_list_filters_sort_and_strictness(personas, shop):
    client = client_for(personas.member)
    for name in ("web-1", "web-2"):
        assert client.post(ORDERS, body(personas, shop, name=name), format="json").status_code == 202
    assert [o["name"] for o in client.get(ORDERS + "?sort=name:desc").json()["results"]] == ["web-2", "web-1"]
    assert client.get(ORDERS + "?name=web-1").json()["count"] == 1
    assert client.get(ORDERS + "?state=provisioning&state=failed").json()["count"] == 2
    assert client.get(ORDERS + "?state=cancelled").json()["count"] == 0
    assert client.get(ORDERS + f"?project={personas.project.pk}&offer={shop.vps.code}").json()["count"] == 2
    assert client.get(ORDERS + "?datacentre=NOWHERE").json()["count"] == 0
    for query in ("?stat=provisioning", "?state=", "?state=nope", "?sort=price", "?format=json"):
        response = client.get(ORDERS + query)
        assert response.status_code == 400, query
        assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("value", ["99999999999999999999", "9223372036854775808", "-1", "0", "1e3", "abc", ""])
def test_out_of_range_organisation_is_a_400_not_a_500(personas, value):
    response = client_for(personas.member).get(ORDERS + "?organisation=" + value)
    assert response.status_code == 400, response.content
    assert "organisation" in response.json()["error"]["fields"]


def test_order_body_project_out_of_range_is_a_400(personas, shop):
    response = client_for(personas.member).post(ORDERS, body(personas, shop, project=10**20), format="json")
    assert response.status_code == 400, response.content
    assert "project" in response.json()["error"]["fields"]
    assert Order.objects.count() == 0


def test_largest_valid_id_is_simply_not_found(personas):
    response = client_for(personas.member).get(ORDERS + "?organisation=9223372036854775807")
    assert response.status_code == 200 and response.json()["count"] == 0
    assert APIClient().get(ORDERS + "?organisation=1").status_code in (401, 403)
