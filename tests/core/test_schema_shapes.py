"""Every list the API documents has the shape it returns: a page envelope or a bare array, never the other."""

from __future__ import annotations

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from tests.factories import organisation_with_owner

pytestmark = pytest.mark.django_db


def _list_paths() -> dict[str, str]:
    """GET paths without path parameters whose 200 response is a page or an array: path -> 'page' | 'array'."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    shapes: dict[str, str] = {}
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path:
            continue
        body = get["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        if body.get("type") == "array":
            shapes[path] = "array"
        elif "$ref" in body and set(components[body["$ref"].rsplit("/", 1)[1]].get("properties", {})) >= {
            "count",
            "results",
        }:
            shapes[path] = "page"
    return shapes


def test_documented_list_shapes_match_the_responses(api_client):
    organisation = organisation_with_owner()
    owner = organisation.memberships.get().user
    api_client.force_authenticate(owner)
    shapes = _list_paths()
    assert {"/api/v1/instances/", "/api/v1/orders/", "/api/v1/billing/invoices/"} <= set(shapes)
    checked = 0
    for path, shape in sorted(shapes.items()):
        response = api_client.get(path)
        if response.status_code != 200:  # staff-only or needing a query parameter: not a shape question
            continue
        body = response.json()
        if shape == "page":
            assert isinstance(body, dict) and {"count", "next", "previous", "results"} <= set(body), path
        else:
            assert isinstance(body, list), path
        checked += 1
    assert checked >= 15, checked
    assert reverse("api-schema")
