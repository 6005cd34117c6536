"""Ids in URL paths are bounded: a 20-digit id is a 404, never an overflow (issue 10, item 10)."""

from __future__ import annotations

import pytest
from django.urls import Resolver404, resolve, reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_id_longer_than_a_bigint_matches_no_route():
    with pytest.raises(Resolver404):
        resolve("/org/sso/acme/domains/99999999999999999999/delete/")
    match = resolve("/api/v1/organisations/99999999999999999999/")
    assert match.url_name == "api-not-found"
    longest = resolve("/api/v1/organisations/999999999999999999/")
    assert longest.url_name == "organisation-detail"
    assert longest.kwargs == {"org_id": 999999999999999999}
    assert reverse(longest.view_name, kwargs={"org_id": 7}).endswith("/organisations/7/")


def test_the_api_answers_its_json_404_for_an_overlong_id(client):
    user = UserFactory()
    client.force_login(user)
    response = client.get("/api/v1/organisations/99999999999999999999/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
