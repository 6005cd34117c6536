"""Fleet API: the staff-only permission matrix, write-only secret, query counts, public availability."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.infrastructure import choices, services
from apps.infrastructure.models import Cluster, Node
from tests.infrastructure.factories import DatacentreFactory, GpuModelFactory, OfferFactory, envelopes, fleet

pytestmark = pytest.mark.django_db

STAFF_LISTS = [
    "api:infrastructure-cluster-list",
    "api:infrastructure-node-list",
    "api:infrastructure-gpu-list",
    "api:infrastructure-storage-list",
    "api:infrastructure-template-list",
    "api:infrastructure-ip-pool-list",
    "api:infrastructure-capacity",
]


@pytest.fixture
def demo():
    envelopes()
    a100 = GpuModelFactory()
    f = fleet(nodes=2, gpus_per_node=2, gpu_model=a100)
    f["a100"] = a100
    return f


@pytest.mark.parametrize("name", STAFF_LISTS)
def test_staff_lists_permission_matrix(demo, api_client, user, staff_user, name):
    url = reverse(name)
    assert api_client.get(url).status_code in (401, 403)
    api_client.force_authenticate(user)
    response = api_client.get(url)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    api_client.force_authenticate(staff_user)
    assert api_client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("api:infrastructure-cluster-detail", "get"),
        ("api:infrastructure-cluster-sync", "post"),
        ("api:infrastructure-node-drain", "post"),
        ("api:infrastructure-node-undrain", "post"),
    ],
)
def test_staff_object_endpoints_refuse_customers(demo, api_client, user, name, method):
    pk = demo["cluster"].pk if "cluster" in name else demo["nodes"][0].pk
    url = reverse(name, args=[pk])
    assert getattr(api_client, method)(url).status_code in (401, 403)
    api_client.force_authenticate(user)
    assert getattr(api_client, method)(url).status_code == 403
    assert not Node.objects.filter(maintenance=True).exists()


def test_cluster_create_secret_is_write_only(api_client, staff_user):
    DatacentreFactory(code="PAR-1")
    api_client.force_authenticate(staff_user)
    response = api_client.post(
        reverse("api:infrastructure-cluster-list"),
        {
            "name": "par1",
            "datacentre": "PAR-1",
            "api_url": "https://pve1.par1.example:8006/api2/json",
            "token_id": "vmcloud@pve!portal",
            "token_secret": "the-secret-value",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "token_secret" not in body and "the-secret-value" not in response.content.decode()
    assert body["has_token_secret"] is True
    assert Cluster.objects.get(name="par1").get_token_secret() == "the-secret-value"
    detail = api_client.get(reverse("api:infrastructure-cluster-detail", args=[body["id"]]))
    assert "the-secret-value" not in detail.content.decode()


def test_cluster_create_bad_input_is_a_400_with_fields(api_client, staff_user):
    api_client.force_authenticate(staff_user)
    response = api_client.post(
        reverse("api:infrastructure-cluster-list"),
        {"name": "x", "datacentre": "NOPE", "api_url": "not a url", "token_id": "no-bang", "vmid_range_start": 5},
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert {"datacentre", "api_url", "token_id", "token_secret", "vmid_range_start"} <= set(fields)


def test_drain_and_undrain(demo, api_client, staff_user):
    api_client.force_authenticate(staff_user)
    node = demo["nodes"][0]
    response = api_client.post(reverse("api:infrastructure-node-drain", args=[node.pk]), {"reason": "PSU"})
    assert response.status_code == 200 and response.json()["maintenance"] is True
    response = api_client.post(reverse("api:infrastructure-node-undrain", args=[node.pk]))
    assert response.status_code == 200 and response.json()["maintenance"] is False
    assert api_client.post(reverse("api:infrastructure-node-drain", args=[99999])).status_code == 404


def test_sync_endpoint_queues_the_task(demo, api_client, staff_user, django_capture_on_commit_callbacks, monkeypatch):
    api_client.force_authenticate(staff_user)
    called = []
    monkeypatch.setattr(services, "inventory_sync", lambda **kw: called.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(reverse("api:infrastructure-cluster-sync", args=[demo["cluster"].pk]))
    assert response.status_code == 202
    assert [kw["cluster"].pk for kw in called] == [demo["cluster"].pk]


@pytest.mark.parametrize("name", [n for n in STAFF_LISTS if n != "api:infrastructure-capacity"])
def test_list_query_count_does_not_grow_with_rows(demo, api_client, staff_user, django_assert_max_num_queries, name):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api_client.force_authenticate(staff_user)
    with CaptureQueriesContext(connection) as small:
        assert api_client.get(reverse(name)).status_code == 200
    more = fleet_more(demo)
    assert more
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert api_client.get(reverse(name)).status_code == 200


def fleet_more(demo):
    """Add rows of every kind to a second datacentre."""
    from tests.infrastructure.factories import (
        ClusterFactory,
        GpuFactory,
        NodeFactory,
        StorageFactory,
        TemplateFactory,
        ip_pools,
    )

    dc = DatacentreFactory(code="AMS-1")
    cluster = ClusterFactory(datacentre=dc)
    nodes = [NodeFactory(cluster=cluster, datacentre=dc) for _ in range(3)]
    for node in nodes:
        GpuFactory(node=node, gpu_model=demo["a100"])
        StorageFactory(cluster=cluster, node=node)
    TemplateFactory(cluster=cluster, os_image=demo["image"])
    ip_pools(dc, v4="198.51.100.0/24", v6="2001:db8:20::/64")
    return nodes


def test_capacity_endpoint(demo, api_client, staff_user):
    api_client.force_authenticate(staff_user)
    body = api_client.get(reverse("api:infrastructure-capacity")).json()
    par = next(row for row in body if row["datacentre"] == "PAR-1")
    gpu = next(line for line in par["lines"] if line["resource"] == "gpu")
    assert (gpu["physical"], gpu["sellable"], gpu["sold"]) == (4, 4, 0)


def test_public_availability_is_true_and_anonymous(demo, api_client):
    offer = OfferFactory(code="GPU-X", gpu_model=demo["a100"], gpu_count=2)
    url = reverse("api:availability")
    body = api_client.get(url, {"offer": "GPU-X", "datacentre": "PAR-1"}).json()
    assert body == [
        {
            "offer": "GPU-X",
            "datacentre": "PAR-1",
            "available": True,
            "level": "limited",
            "reason": "",
            "images": [{"image": demo["image"].slug, "gpu_stack": None}],
        }
    ]
    for _ in range(2):
        services.placement_reserve(offer=offer, datacentre=demo["dc"], image=demo["image"])
    body = api_client.get(url, {"offer": "GPU-X", "datacentre": "PAR-1"}).json()
    assert body[0]["available"] is False and body[0]["reason"] == choices.UnavailableCode.NO_CAPACITY
    assert api_client.get(url, {"offer": "NOPE"}).status_code == 404
    assert api_client.get(url).status_code == 200


def test_catalogue_availability_hook_uses_the_ledger(demo):
    from apps.catalogue.selectors import offer_availability

    offer = OfferFactory(gpu_model=demo["a100"], gpu_count=4)  # no node has 4
    assert offer_availability(offer=offer, datacentre=demo["dc"]) is False
    assert offer_availability(offer=OfferFactory(), datacentre=demo["dc"]) is True


@pytest.mark.parametrize("name", [n for n in STAFF_LISTS if n != "api:infrastructure-capacity"])
def test_staff_lists_refuse_an_unknown_query_parameter(demo, api_client, staff_user, name):
    api_client.force_authenticate(staff_user)
    response = api_client.get(reverse(name), {"statuss": "online", "per_page": 5})
    assert response.status_code == 400
    body = response.json()["error"]
    assert list(body["fields"]) == ["statuss"]
    assert "per_page" in body["fields"]["statuss"][0]
    assert api_client.get(reverse(name), {"per_page": 5}).status_code == 200


def test_staff_node_list_still_filters_by_its_filterset(demo, api_client, staff_user):
    api_client.force_authenticate(staff_user)
    response = api_client.get(reverse("api:infrastructure-node-list"), {"maintenance": "true"})
    assert response.status_code == 200
    assert response.json()["count"] == 0
