"""The public catalogue authenticates tokens: a token's requests count in its own bucket, not the address's."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from apps.teams.services import organisation_create
from tests.factories import ApiTokenFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/catalogue/families/"


@pytest.fixture
def limits(settings):
    settings.API_RATE_LIMITS = {"token": (7, 60), "user": (50, 60), "anonymous": (3, 60)}
    return settings


def _address() -> str:
    return f"2001:db8::{uuid.uuid4().hex[:4]}"


def test_token_requests_count_against_the_token_not_the_shared_address(limits, catalogue):
    address = _address()
    owner = UserFactory()
    org = organisation_create(name="Catalogue reader", owner=owner, actor=owner)
    token = ApiTokenFactory(user=owner, organisation=org)
    authed = APIClient(REMOTE_ADDR=address)
    authed.credentials(HTTP_AUTHORIZATION=f"Bearer {token.plaintext}")
    anonymous = APIClient(REMOTE_ADDR=address)

    # Anonymous clients of the address use up its bucket...
    assert [anonymous.get(URL).status_code for _ in range(4)] == [200, 200, 200, 429]
    # ... and the token, behind the same address, still has its own.
    first = authed.get(URL)
    assert first.status_code == 200
    assert first["RateLimit-Limit"] == "7"
    assert first["RateLimit-Remaining"] == "6"
    statuses = [authed.get(URL).status_code for _ in range(7)]
    assert statuses == [200] * 6 + [429]


def test_catalogue_stays_public_and_refuses_a_bad_token(limits, catalogue):
    assert APIClient(REMOTE_ADDR=_address()).get(URL).status_code == 200
    bad = APIClient(REMOTE_ADDR=_address())
    bad.credentials(HTTP_AUTHORIZATION="Bearer vmc_pat_nope")
    response = bad.get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
