"""Orders API: quotes, placing (202/201, 400 fields, 403 viewer, 409 capacity), scoping, cancel, idempotency."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.infrastructure.models import Node, Reservation
from apps.orders.choices import OrderState
from apps.orders.models import Order
from tests.orders.conftest import place

pytestmark = pytest.mark.django_db

QUOTES = "/api/v1/quotes/"
ORDERS = "/api/v1/orders/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(personas, shop, **overrides):
    data = {
        "project": personas.project.pk,
        "offer": shop.vps.code,
        "datacentre": shop.dc.code,
        "image": shop.image.slug,
        "name": "web-1",
        "user_data": "",
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------
# Quotes
# ---------------------------------------------------------------------------
def test_quote_returns_price_and_availability(shop):
    response = APIClient().post(
        QUOTES, {"offer": shop.gpu.code, "datacentre": shop.dc.code, "image": shop.image.slug}, format="json"
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["price_hourly"], data["price_monthly"], data["currency"]) == ("0.390000", "80.00", "EUR")
    assert (data["availability"], data["available_count"], data["orderable"]) == ("available", 4, True)
    assert Reservation.objects.count() == 0


def test_quote_with_unknown_codes_is_a_400_with_field_messages(shop):
    response = APIClient().post(QUOTES, {"offer": "NOPE", "datacentre": shop.dc.code}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "offer" in response.json()["error"]["fields"]


# ---------------------------------------------------------------------------
# Place
# ---------------------------------------------------------------------------
def test_member_places_a_vps_order_and_gets_202(personas, shop):
    response = client_for(personas.member).post(ORDERS, body(personas, shop), format="json")
    assert response.status_code == 202, response.content
    data = response.json()
    assert (data["state"], data["offer"], data["price_monthly"]) == ("provisioning", "VPS-TEST", "9.99")
    assert data["user_data_size"] == 0
    assert Order.objects.get().public_id.hex == data["id"].replace("-", "")


def test_order_waiting_for_approval_answers_201(personas, shop, settings):
    settings.ORDERS_APPROVAL_GPU = True
    response = client_for(personas.member).post(ORDERS, body(personas, shop, offer=shop.gpu.code), format="json")
    assert response.status_code == 201
    assert response.json()["state"] == "awaiting_approval"


def test_invalid_order_is_a_400_with_field_messages(personas, shop):
    response = client_for(personas.member).post(
        ORDERS, body(personas, shop, name="bad_name", user_data="hello"), format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"name", "user_data"}


def test_missing_fields_are_a_400(personas, shop):
    response = client_for(personas.member).post(ORDERS, {"offer": shop.vps.code}, format="json")
    assert response.status_code == 400
    assert {"project", "datacentre", "name"} <= set(response.json()["error"]["fields"])


def test_viewer_cannot_place_an_order(personas, shop):
    response = client_for(personas.viewer).post(ORDERS, body(personas, shop), format="json")
    assert response.status_code == 403
    assert Order.objects.count() == 0


def test_anonymous_cannot_place_an_order(personas, shop):
    assert APIClient().post(ORDERS, body(personas, shop), format="json").status_code == 401


def test_ordering_into_another_organisations_project_is_refused_without_revealing_it(personas, shop):
    response = client_for(personas.member).post(
        ORDERS, body(personas, shop, project=personas.other_project.pk), format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"project": ["Unknown project."]}


def test_no_capacity_is_a_409_and_nothing_is_created(personas, shop):
    Node.objects.update(maintenance=True)
    response = client_for(personas.member).post(ORDERS, body(personas, shop), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_capacity"
    assert Order.objects.count() == 0
    assert Reservation.objects.count() == 0


# ---------------------------------------------------------------------------
# Read
# ---------------------------------------------------------------------------
def test_order_of_another_organisation_is_404(personas, shop):
    order = place(personas, shop)
    response = client_for(personas.outsider).get(f"{ORDERS}{order.public_id}/")
    assert response.status_code == 404


def test_viewer_reads_the_order_and_its_history(personas, shop):
    order = place(personas, shop)
    response = client_for(personas.viewer).get(f"{ORDERS}{order.public_id}/")
    assert response.status_code == 200
    assert [h["to_state"] for h in response.json()["history"]] == ["pending", "provisioning"]


def test_list_shows_only_the_actors_organisations_orders(personas, shop):
    mine = place(personas, shop)
    place(
        personas,
        shop,
        actor=personas.outsider,
        organisation=personas.other_org,
        project=personas.other_project,
        name="theirs",
    )
    ids = [o["id"] for o in client_for(personas.member).get(ORDERS).json()["results"]]
    assert ids == [str(mine.public_id)]
    outsider_ids = [o["id"] for o in client_for(personas.outsider).get(ORDERS).json()["results"]]
    assert str(mine.public_id) not in outsider_ids


def test_list_filters_by_state(personas, shop, settings):
    settings.ORDERS_APPROVAL_GPU = True
    place(personas, shop)
    waiting = place(personas, shop, offer=shop.gpu, name="gpu-1")
    results = client_for(personas.member).get(ORDERS, {"state": "awaiting_approval"}).json()["results"]
    assert [o["id"] for o in results] == [str(waiting.public_id)]


def test_list_query_count_does_not_grow_with_orders(personas, shop, django_assert_num_queries):
    client = client_for(personas.member)
    place(personas, shop, offer=shop.service, name="svc-0")
    client.get(ORDERS)  # warm caches (content types)
    with django_assert_num_queries(4) as one:  # visible project ids, count, page, transitions
        assert len(client.get(ORDERS).json()["results"]) == 1
    for i in range(1, 12):
        place(personas, shop, offer=shop.service, name=f"svc-{i}")
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(client.get(ORDERS).json()["results"]) == 12


# ---------------------------------------------------------------------------
# Cancel
# ---------------------------------------------------------------------------
def test_member_cancels_an_order_awaiting_approval(personas, shop, settings):
    settings.ORDERS_APPROVAL_GPU = True
    order = place(personas, shop, offer=shop.gpu)
    response = client_for(personas.member).post(f"{ORDERS}{order.public_id}/cancel/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == OrderState.CANCELLED


def test_viewer_cannot_cancel_and_outsider_gets_404(personas, shop, settings):
    settings.ORDERS_APPROVAL_GPU = True
    order = place(personas, shop, offer=shop.gpu)
    assert client_for(personas.viewer).post(f"{ORDERS}{order.public_id}/cancel/").status_code == 403
    assert client_for(personas.outsider).post(f"{ORDERS}{order.public_id}/cancel/").status_code == 404
    order.refresh_from_db()
    assert order.state == OrderState.AWAITING_APPROVAL


def test_cancelling_a_provisioning_order_is_a_409(personas, shop):
    order = place(personas, shop)
    response = client_for(personas.member).post(f"{ORDERS}{order.public_id}/cancel/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_not_cancellable"


# ---------------------------------------------------------------------------
# Idempotency-Key
# ---------------------------------------------------------------------------
def test_same_key_and_body_replays_the_first_response_and_orders_once(personas, shop):
    client = client_for(personas.member)
    first = client.post(ORDERS, body(personas, shop), format="json", headers={"Idempotency-Key": "k-1"})
    second = client.post(ORDERS, body(personas, shop), format="json", headers={"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert Order.objects.count() == 1
    assert Reservation.objects.count() == 1


def test_replay_is_verbatim_even_after_the_order_moved_on(personas, shop, settings):
    settings.ORDERS_APPROVAL_GPU = True
    client = client_for(personas.member)
    data = body(personas, shop, offer=shop.gpu.code)
    first = client.post(ORDERS, data, format="json", headers={"Idempotency-Key": "k-2"})
    client.post(f"{ORDERS}{first.json()['id']}/cancel/")
    again = client.post(ORDERS, data, format="json", headers={"Idempotency-Key": "k-2"})
    assert (again.status_code, again.json()) == (201, first.json())


def test_same_key_with_a_different_body_is_refused(personas, shop):
    client = client_for(personas.member)
    client.post(ORDERS, body(personas, shop), format="json", headers={"Idempotency-Key": "k-3"})
    response = client.post(
        ORDERS, body(personas, shop, name="web-2"), format="json", headers={"Idempotency-Key": "k-3"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


def test_keys_are_scoped_to_the_organisation(personas, shop):
    client_for(personas.member).post(ORDERS, body(personas, shop), format="json", headers={"Idempotency-Key": "shared"})
    response = client_for(personas.outsider).post(
        ORDERS,
        body(personas, shop, project=personas.other_project.pk),
        format="json",
        headers={"Idempotency-Key": "shared"},
    )
    assert response.status_code == 202
    assert Order.objects.count() == 2


def test_overlong_idempotency_key_is_a_400(personas, shop):
    response = client_for(personas.member).post(
        ORDERS, body(personas, shop), format="json", headers={"Idempotency-Key": "k" * 256}
    )
    assert response.status_code == 400
    assert Order.objects.count() == 0


@pytest.mark.parametrize(("role", "expected"), [("owner", 202), ("admin", 202), ("member", 202), ("billing", 403)])
def test_who_may_place_an_order(personas, shop, role, expected):
    from apps.teams.choices import Role
    from tests.factories import member

    user = personas.owner if role == "owner" else member(personas.org, Role(role))
    response = client_for(user).post(ORDERS, body(personas, shop), format="json")
    assert response.status_code == expected


def test_read_only_token_cannot_order_but_can_list(personas, shop):
    from apps.teams.choices import TokenScope
    from tests.factories import ApiTokenFactory

    token = ApiTokenFactory(user=personas.member, organisation=personas.org, scope=TokenScope.READ_ONLY)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.plaintext}")
    response = client.post(ORDERS, body(personas, shop), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "token_read_only"
    assert client.get(ORDERS).status_code == 200


def test_user_data_in_a_datacentre_without_snippets_storage_is_a_400_user_data_unavailable(personas, shop):
    response = client_for(personas.member).post(
        ORDERS, body(personas, shop, user_data="#cloud-config\npackages: [nginx]\n"), format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "user_data_unavailable"
    assert "not available in this datacentre yet" in error["fields"]["user_data"][0]
    assert Order.objects.count() == 0
