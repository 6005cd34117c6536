"""The instance list's fast path (``apps.instances.api.listing``) answers exactly what the serializer would."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.instances.api.listing import FIELD_COLUMNS
from apps.instances.api.serializers import InstanceOutputSerializer
from apps.instances.models import Instance
from apps.instances.selectors.server_extras import SERVER_EXTRA_FIELDS
from tests.instances.conftest import create_instance

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _variants(fleet, personas) -> list[Instance]:
    """One provisioned instance and copies covering nulls, GPUs, labels, errors and odd decimals."""
    inst, _action = create_instance(fleet, personas)
    template = Instance.objects.get(pk=inst.pk)
    made = []
    variants: list[dict[str, object]] = [
        {"ipv4": None, "ipv6": None, "labels": {}, "gpu_mappings": []},
        {"ipv4": "192.0.2.7", "ipv6": "2001:db8::7", "labels": {"env": "prod", "team": "é"}},
        {"gpu_mappings": [{"id": "0000:01:00"}, {"id": "0000:02:00"}], "status": "error", "error_message": "Boom"},
        {"price_hourly": Decimal("1.2"), "price_monthly": Decimal("700"), "delete_protection": True},
    ]
    for n, changes in enumerate(variants):
        template.pk = None
        template.public_id = uuid.uuid4()
        template.vmid = 300_000 + n
        template.reservation = None
        for field, value in changes.items():
            setattr(template, field, value)
        template.save()
        made.append(Instance.objects.get(pk=template.pk))
    return [Instance.objects.get(pk=inst.pk), *made]


def test_list_rows_match_the_serializer_field_for_field(fleet, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        instances = _variants(fleet, personas)
    body = _client(personas.owner).get("/api/v1/instances/").json()
    assert body["count"] == len(instances)
    fresh = Instance.objects.select_related("offer", "datacentre", "image").filter(pk__in=[i.pk for i in instances])
    expected = {str(i.public_id): InstanceOutputSerializer(i).data for i in fresh}
    for row in body["results"]:
        # Same keys in the same order, and the same JSON values.
        assert list(row) == list(expected[row["id"]])
        assert row == dict(expected[row["id"]])


def test_fast_path_covers_every_serializer_field():
    # The columns of the row, then the fields the apps around a server add (server_extras_add).
    assert [*FIELD_COLUMNS, *SERVER_EXTRA_FIELDS] == list(InstanceOutputSerializer.Meta.fields)


def test_detail_and_list_agree(fleet, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inst, _action = create_instance(fleet, personas)
    client = _client(personas.member)
    listed = client.get("/api/v1/instances/").json()["results"][0]
    assert listed == client.get(f"/api/v1/instances/{inst.public_id}/").json()


@pytest.mark.parametrize(
    ("query", "status", "count"),
    [
        ("", 200, 3),
        ("?per_page=2", 200, 3),
        ("?per_page=2&page=2", 200, 3),
        ("?page=3", 200, 3),  # past the end: empty results, links back (was a 404 "Invalid page.")
        ("?page=0", 400, None),
        ("?page=x", 400, None),
        ("?per_page=0", 400, None),
        ("?per_page=201", 400, None),
        ("?per_page=false", 400, None),
        ("?page=last&per_page=2", 200, 3),
    ],
)
def test_pagination_is_drf_page_number_pagination(
    fleet, personas, query, status, count, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            create_instance(fleet, personas, name=f"web-{n}")
    response = _client(personas.owner).get("/api/v1/instances/" + query)
    assert response.status_code == status, response.content
    if status == 200:
        body = response.json()
        assert body["count"] == count
        assert set(body) == {"count", "next", "previous", "page", "per_page", "last_page", "results"}
        assert response["X-Total-Count"] == str(count)
    else:
        assert response.json()["error"]["code"] == "validation_error"
