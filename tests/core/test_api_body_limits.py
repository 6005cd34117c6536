"""Oversized and over-deep JSON bodies answer 413 and 400 in the one error body, never a 500."""

from __future__ import annotations

import json

import pytest
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class _EchoView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def post(self, request):
        return Response({"keys": sorted(request.data) if isinstance(request.data, dict) else []})


urlpatterns = [path("api/v1/echo", _EchoView.as_view())]
pytestmark = pytest.mark.urls("tests.core.test_api_body_limits")


def _post(client, body: str):
    client.raise_request_exception = False
    return client.generic("POST", "/api/v1/echo", body, content_type="application/json")


def test_three_megabyte_json_body_is_413_in_the_error_body(client, settings):
    body = json.dumps({"blob": "x" * (3 * 1024 * 1024)})
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = _post(client, body)
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "request_too_large"
    assert error["request_id"] == response["X-Request-ID"]
    assert "Traceback" not in response.content.decode()


def test_json_nested_five_thousand_levels_is_400_parse_error(client):
    response = _post(client, "[" * 5000 + "]" * 5000)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    response = _post(client, '{"a":' * 5000 + "1" + "}" * 5000)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_reasonable_body_still_parses(client):
    response = _post(client, json.dumps({"a": [[[1]]], "b": "x" * 1000}))
    assert response.status_code == 200
    assert response.json() == {"keys": ["a", "b"]}
