"""The schema promises what the API does (issue 10, item 20): statuses, headers, bodies, the /api/ 404.

The live fuzzing of every operation is tests/contract/test_schemathesis.py; these
are the fast, targeted checks of what the audit found.
"""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.factories import organisation_with_owner

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _operation(schema, operation_id):
    for operations in schema["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return operation
    raise AssertionError(operation_id)


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_api_route_is_a_json_404_whatever_debug(client, settings, debug, method):
    settings.DEBUG = debug
    user = organisation_with_owner().memberships.get().user
    client.force_login(user)  # a session POST without a CSRF token must still get the JSON 404
    response = getattr(client, method)("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()["error"]
    assert body["code"] == "not_found"
    assert body["request_id"] == response["X-Request-ID"]


def test_unknown_id_under_a_known_prefix_is_a_json_404_with_debug(client, settings):
    settings.DEBUG = True
    response = client.get("/api/v1/instances/not-a-uuid/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_known_api_path_without_its_slash_redirects_keeping_the_method(client):
    response = client.post("/api/v1/orders?x=1")
    assert response.status_code == 308
    assert response["Location"] == "/api/v1/orders/?x=1"


@pytest.mark.parametrize(
    ("operation_id", "status", "code"),
    [
        ("members_destroy", "409", "last_owner"),
        ("organisations_leave", "409", "last_owner"),
        ("projects_destroy", "409", "project_is_default"),
        ("invitations_create", "409", "invitation_pending"),
        ("orders_create", "409", "no_capacity"),
        ("orders_create", "422", "idempotency_key_reused"),
    ],
)
def test_conflicts_named_in_prose_are_documented_responses(schema, operation_id, status, code):
    response = _operation(schema, operation_id)["responses"][status]
    assert f"`{code}`" in response["description"]
    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize(
    "operation_id",
    ["billing_invoices_list", "billing_credits_list", "billing_notices_list", "billing_checkout_sessions_create"],
)
def test_an_unknown_organisation_is_a_documented_404(schema, operation_id):
    assert "404" in _operation(schema, operation_id)["responses"]


def test_every_response_documents_the_request_id_and_rate_limit_headers(schema):
    assert set(schema["components"]["headers"]) >= {
        "X-Request-ID",
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
        "Retry-After",
    }
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                headers = response.get("headers", {})
                assert "X-Request-ID" in headers and "RateLimit-Remaining" in headers, (method, path, status)
                assert ("Retry-After" in headers) == (status == "429"), (method, path, status)
                if status[0] in "45":
                    assert response["content"] == {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    }, (method, path, status)


def test_the_description_names_the_error_fields_the_body_has(schema):
    description = schema["info"]["description"]
    assert "`error.fields`" in description
    assert "details" not in description


def test_a_credit_without_credit_note_is_documented_as_null(schema):
    field = schema["components"]["schemas"]["CreditGrantOutput"]["properties"]["credit_note_number"]
    assert field.get("nullable") is True


AMOUNTS_VALID = ["0.01", "12", "12.5", ".5", "7.", "9999999999.99"]
AMOUNTS_INVALID = ["", ".", "-5", "0", "0.00", ".0", "1.234", "12345678901", "١٢"]


def test_a_decimal_pattern_says_what_the_field_accepts(schema):
    """The budget amount (at least 0.01, 2 places): the old pattern allowed "", "-5" and "0", refused by the API."""
    import re

    pattern = re.compile(schema["components"]["schemas"]["BudgetCreateInputRequest"]["properties"]["amount"]["pattern"])
    assert [a for a in AMOUNTS_VALID if not pattern.search(a)] == []
    assert [a for a in AMOUNTS_INVALID if pattern.search(a)] == []


def test_every_amount_the_pattern_allows_the_api_accepts(api_client):
    organisation = organisation_with_owner()
    api_client.force_authenticate(organisation.memberships.get().user)
    for index, amount in enumerate(AMOUNTS_VALID):
        response = api_client.post(
            f"/api/v1/billing/budgets/?organisation={organisation.slug}",
            {"organisation": organisation.slug, "name": f"b{index}", "amount": amount},
            format="json",
        )
        assert response.status_code == 201, (amount, response.json())


def test_a_patch_that_needs_its_field_documents_it_as_required(schema):
    body = schema["components"]["schemas"]["PatchedMemberUpdateInputRequest"]
    assert body["required"] == ["role"]


def test_an_order_of_a_managed_service_without_image_is_not_a_server_error(api_client):
    """The fuzzer's 500: `image` is optional for a managed service, but order_place needs the argument."""
    from django.core.management import call_command

    call_command("load_catalogue", verbosity=0)
    organisation = organisation_with_owner()
    api_client.force_authenticate(organisation.memberships.get().user)
    project = organisation.projects.get(is_default=True)
    response = api_client.post(
        "/api/v1/orders/",
        {"datacentre": "PAR-1", "name": "Monthly cloud", "offer": "GPU-BUSINESS", "project": project.pk},
        format="json",
    )
    assert response.status_code < 500, response.content


def test_request_bodies_are_documented_as_json_only(schema):
    media = {
        media
        for operations in schema["paths"].values()
        for operation in operations.values()
        for media in operation.get("requestBody", {}).get("content", {})
    }
    assert media == {"application/json"}


def test_a_text_input_that_may_not_be_blank_refuses_only_spaces_in_its_schema(schema, api_client):
    import re

    name = schema["components"]["schemas"]["BudgetCreateInputRequest"]["properties"]["name"]
    assert not re.search(name["pattern"], "\u00a0 ") and re.search(name["pattern"], " a ")
    organisation = organisation_with_owner()
    api_client.force_authenticate(organisation.memberships.get().user)
    response = api_client.post(
        "/api/v1/billing/budgets/", {"organisation": organisation.slug, "name": "\u00a0", "amount": "5"}, format="json"
    )
    assert response.status_code == 400 and "name" in response.json()["error"]["fields"]
