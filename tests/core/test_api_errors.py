"""Every API error leaves in one body: code, message, fields, request_id."""

from __future__ import annotations

import pytest
from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import Conflict


class _EchoInput(serializers.Serializer):
    hostname = serializers.RegexField(r"^[a-z0-9-]{1,63}$")
    size = serializers.IntegerField(min_value=1)


class _EchoView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def post(self, request):
        data = _EchoInput(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["hostname"] == "taken":
            raise Conflict("That hostname is taken.", code="hostname_taken")
        if data.validated_data["hostname"] == "boom":
            raise RuntimeError("unexpected")
        return Response(data.validated_data)


urlpatterns = [path("api/v1/echo", _EchoView.as_view())]
pytestmark = pytest.mark.urls("tests.core.test_api_errors")


def test_validation_error_lists_field_messages(api_client):
    response = api_client.post("/api/v1/echo", {"hostname": "Bad Host!", "size": 0}, format="json")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    assert set(body["fields"]) == {"hostname", "size"}
    assert body["request_id"] == response["X-Request-ID"]


def test_application_error_keeps_its_code_and_status(api_client):
    response = api_client.post("/api/v1/echo", {"hostname": "taken", "size": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "hostname_taken"
    assert response.json()["error"]["message"] == "That hostname is taken."


def test_unexpected_error_is_a_500_with_the_same_body_and_no_trace(api_client):
    api_client.raise_request_exception = False
    response = api_client.post("/api/v1/echo", {"hostname": "boom", "size": 1}, format="json")
    assert response.status_code == 500
    body = response.json()["error"]
    assert body["code"] == "server_error"
    assert "Traceback" not in response.content.decode()


def test_malformed_json_is_a_parse_error(api_client):
    response = api_client.post("/api/v1/echo", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_client_request_id_is_echoed_when_sane(api_client):
    response = api_client.post("/api/v1/echo", {}, format="json", HTTP_X_REQUEST_ID="client-req-12345")
    assert response["X-Request-ID"] == "client-req-12345"
    assert response.json()["error"]["request_id"] == "client-req-12345"
