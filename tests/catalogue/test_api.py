"""Public catalogue API: anonymous reads, filters, validation, cache headers, constant query counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils.http import http_date

from apps.catalogue.models import Datacentre, Offer
from tests.catalogue.factories import (
    DatacentreFactory,
    DatacentreGpuModelFactory,
    GpuModelFactory,
    GpuSoftwareStackFactory,
    OfferFactory,
    ProductFamilyFactory,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/catalogue"


def codes(response) -> list[str]:
    return [o["code"] for o in response.json()["results"]]


def test_every_endpoint_answers_anonymously_with_cache_headers(api_client, catalogue):
    for path in [
        "families/",
        "families/gpu/",
        "offers/",
        "offers/VPS-NANO/",
        "images/",
        "gpu-stacks/",
        "datacentres/",
        "gpu-models/",
    ]:
        response = api_client.get(f"{BASE}/{path}")
        assert response.status_code == 200, path
        assert response["ETag"].startswith('"')
        assert response["Last-Modified"]
        assert response["Cache-Control"] == "public, max-age=60"
        assert "Accept-Language" in response["Vary"]


def test_offer_list_has_all_36_active_offers_in_catalogue_order(api_client, catalogue):
    body = api_client.get(f"{BASE}/offers/").json()
    assert body["count"] == 36
    assert body["results"][0]["code"] == "VPS-NANO"
    assert body["results"][-1]["code"] == "CDN-GLOBAL"


def test_offer_shape_prices_are_strings_and_unlimited_is_a_real_value(api_client, catalogue):
    nano = api_client.get(f"{BASE}/offers/VPS-NANO/").json()
    assert nano["price"] == {
        "currency": "EUR",
        "unit": "month",
        "monthly": "29.00",
        "hourly": "0.0397",
        "hourly_price_rule": "derived",
    }
    assert nano["compute"]["bandwidth"] == {"value": 5, "unit": "TB", "unlimited": False, "or_more": False}
    assert nano["compute"]["sla_percent"] == "99.9"
    assert nano["datacentres"] == ["PAR-1", "AMS-1"]
    assert nano["gpu"] is None and nano["cdn"] is None

    quantum = api_client.get(f"{BASE}/offers/VPS-QUANTUM/").json()
    assert quantum["compute"]["bandwidth"] == {"value": None, "unit": "TB", "unlimited": True, "or_more": False}
    assert quantum["compute"]["storage_gb"] == 5000

    web = api_client.get(f"{BASE}/offers/WEB-ENTERPRISE/").json()["web_hosting"]
    assert all(
        web[k]["unlimited"] and web[k]["value"] is None for k in ("websites", "bandwidth", "databases", "mailboxes")
    )
    assert web["storage_gb"] == 2000

    k8s = api_client.get(f"{BASE}/offers/PAAS-KUBERNETES/").json()["paas"]
    assert k8s["kubernetes_cluster"] and k8s["containers"] is None and k8s["ram_configurable"]
    assert k8s["deployments_per_day"]["unlimited"]

    lb = api_client.get(f"{BASE}/offers/LB-GLOBAL/").json()["load_balancer"]
    assert lb["requests_per_second"] == {"value": 1000000, "unit": None, "unlimited": False, "or_more": True}
    assert lb["backends"]["unlimited"]
    assert lb["protocols"][-2:] == ["gRPC", "HTTP/3"]

    storage = api_client.get(f"{BASE}/offers/STORAGE-SSD/").json()
    assert storage["price"]["unit"] == "gb_month"
    assert (storage["price"]["monthly"], storage["price"]["hourly"]) == ("0.10", "0.000137")
    assert storage["block_storage"]["latency_below_ms"] == "1"

    cdn = api_client.get(f"{BASE}/offers/CDN-GLOBAL/").json()["cdn"]
    assert cdn["pops"] == {"value": 150, "unit": None, "unlimited": False, "or_more": True}
    assert cdn["traffic_included"]["value"] == 1000

    gpu = api_client.get(f"{BASE}/offers/GPU-SUPERCOMPUTE/").json()
    assert gpu["price"]["hourly"] == "33.60" and gpu["price"]["hourly_price_rule"] == "list"
    assert gpu["gpu"] == {
        "model": "a100-80gb",
        "model_name": "A100 80GB",
        "count": 8,
        "vram_gb_per_gpu": 80,
        "vram_gb_total": 640,
    }
    assert gpu["compute"]["ram_gb"] == 1024


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("family=load-balancer", ["LB-STARTER", "LB-BUSINESS", "LB-ENTERPRISE", "LB-GLOBAL"]),
        ("gpu_model=a100-80gb", ["GPU-TITAN", "GPU-SUPERCOMPUTE"]),
        ("family=vps&min_vcpu=32", ["VPS-TITANIUM", "VPS-QUANTUM"]),
        ("min_ram_gb=512", ["GPU-CLUSTER", "GPU-SUPERCOMPUTE"]),
        ("family=vps&min_price_monthly=100&max_price_monthly=400", ["VPS-BUSINESS", "VPS-ENTERPRISE"]),
        ("family=gpu&datacentre=AMS-1", []),
        ("datacentre=FRA-1", []),
        ("family=cdn&tier=premium", ["CDN-GLOBAL"]),
        ("max_price_monthly=0.20", ["STORAGE-SSD", "STORAGE-NVME"]),
    ],
)
def test_offer_filters(api_client, catalogue, query, expected):
    response = api_client.get(f"{BASE}/offers/?{query}")
    assert response.status_code == 200
    assert codes(response) == expected


def test_datacentre_filter_lists_only_offers_orderable_there(api_client, catalogue):
    par = codes(api_client.get(f"{BASE}/offers/?datacentre=PAR-1"))
    ams = codes(api_client.get(f"{BASE}/offers/?datacentre=AMS-1"))
    assert len(par) == 36
    assert len(ams) == 28 and not any(c.startswith("GPU-") for c in ams)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("family=mainframe", "family"),
        ("gpu_model=h100", "gpu_model"),
        ("datacentre=MAD-1", "datacentre"),
        ("min_vcpu=-1", "min_vcpu"),
        ("min_vcpu=lots", "min_vcpu"),
        ("min_ram_gb=99999999999", "min_ram_gb"),
        ("min_price_monthly=abc", "min_price_monthly"),
        ("min_price_monthly=100&max_price_monthly=10", "max_price_monthly"),
        ("tier=gold", "tier"),
    ],
)
def test_bad_offer_filter_is_a_400_naming_the_field(api_client, catalogue, query, field):
    response = api_client.get(f"{BASE}/offers/?{query}")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    assert field in body["fields"]


def test_bad_image_filter_is_a_400(api_client, catalogue):
    response = api_client.get(f"{BASE}/images/?include_deprecated=perhaps")
    assert response.status_code == 400
    assert "include_deprecated" in response.json()["error"]["fields"]


def test_images_list_16_offered_and_17_with_deprecated(api_client, catalogue):
    assert api_client.get(f"{BASE}/images/").json()["count"] == 16
    body = api_client.get(f"{BASE}/images/?include_deprecated=true").json()
    assert body["count"] == 17
    centos8 = next(i for i in body["results"] if i["slug"] == "centos-stream-8")
    assert centos8["lifecycle"] == "deprecated"
    win = next(i for i in body["results"] if i["slug"] == "windows-server-2022")
    assert (win["windows_licensing"], win["min_ram_gb"]) == ("byol_or_included", 4)


def test_gpu_stacks_datacentres_and_gpu_models(api_client, catalogue):
    stacks = api_client.get(f"{BASE}/gpu-stacks/").json()["results"]
    assert {s["slug"] for s in stacks} == {
        "ubuntu-22.04-cuda-11.8",
        "ubuntu-22.04-cuda-12",
        "rocky-9-cuda-11.8",
        "rocky-9-cuda-12",
    }
    dcs = {d["code"]: d for d in api_client.get(f"{BASE}/datacentres/").json()["results"]}
    assert dcs["FRA-1"]["status"] == "maintenance"
    assert {g["model"]: g["presence"] for g in dcs["FRA-1"]["gpu_models"]} == {
        "a100-40gb": "planned",
        "a100-80gb": "planned",
    }
    models = {g["slug"]: g for g in api_client.get(f"{BASE}/gpu-models/").json()["results"]}
    assert models["a100-80gb"]["pci_device_id"] == "20b5"
    assert {d["code"] for d in models["l40s"]["datacentres"]} == {"AMS-1"}


def test_family_detail_has_features_and_offers(api_client, catalogue):
    body = api_client.get(f"{BASE}/families/web-hosting/").json()
    assert body["offer_count"] == 4
    assert (body["price_monthly_from"], body["price_monthly_to"]) == ("19.00", "199.00")
    assert [o["code"] for o in body["offers"]] == ["WEB-STARTER", "WEB-BUSINESS", "WEB-PRO", "WEB-ENTERPRISE"]
    assert {g["title"] for g in body["features"]} == {"Web stack", "1-click apps"}


def test_unknown_family_and_offer_are_404(api_client, catalogue):
    assert api_client.get(f"{BASE}/families/mainframe/").status_code == 404
    response = api_client.get(f"{BASE}/offers/NOPE/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_retired_offer_is_404_and_hidden_offer_is_reachable_by_code(api_client, catalogue):
    Offer.objects.filter(code="VPS-NANO").update(status="retired")
    Offer.objects.filter(code="VPS-STARTER").update(status="hidden")
    assert api_client.get(f"{BASE}/offers/VPS-NANO/").status_code == 404
    assert api_client.get(f"{BASE}/offers/VPS-STARTER/").status_code == 200
    listed = codes(api_client.get(f"{BASE}/offers/?family=vps"))
    assert "VPS-NANO" not in listed and "VPS-STARTER" not in listed


def test_etag_gives_304_until_the_catalogue_changes(api_client, catalogue):
    first = api_client.get(f"{BASE}/offers/")
    etag = first["ETag"]
    again = api_client.get(f"{BASE}/offers/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert again.content == b""

    offer = Offer.objects.get(code="VPS-NANO")
    offer.price_monthly = Decimal("30.00")
    offer.save()
    changed = api_client.get(f"{BASE}/offers/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_etag_changes_when_offer_links_change(api_client, catalogue):
    etag = api_client.get(f"{BASE}/datacentres/")["ETag"]
    Offer.objects.get(code="VPS-NANO").datacentres.add(Datacentre.objects.get(code="FRA-1"))
    assert api_client.get(f"{BASE}/datacentres/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_if_modified_since_gives_304(api_client, catalogue):
    response = api_client.get(f"{BASE}/families/")
    last_modified = response["Last-Modified"]
    assert api_client.get(f"{BASE}/families/", HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    assert api_client.get(f"{BASE}/families/", HTTP_IF_MODIFIED_SINCE=http_date(0)).status_code == 200


def test_bad_filter_is_400_even_with_a_matching_etag(api_client, catalogue):
    etag = api_client.get(f"{BASE}/offers/")["ETag"]
    assert api_client.get(f"{BASE}/offers/?min_vcpu=x", HTTP_IF_NONE_MATCH=etag).status_code == 400


def test_etag_differs_per_language(api_client, catalogue):
    en = api_client.get(f"{BASE}/offers/", HTTP_ACCEPT_LANGUAGE="en")["ETag"]
    fr = api_client.get(f"{BASE}/offers/", HTTP_ACCEPT_LANGUAGE="fr")["ETag"]
    assert en != fr


def test_the_api_is_read_only(api_client, catalogue, staff_user):
    api_client.force_login(staff_user)
    assert api_client.post(f"{BASE}/offers/", {"code": "X"}).status_code == 405
    assert api_client.delete(f"{BASE}/offers/VPS-NANO/").status_code == 405


# --- query counts: the same number of queries for 1 row and for many -----------------


def _rows_of_each(n: int) -> None:
    """n more rows of every listed kind, each with its related rows (links, GPU presence)."""
    family = ProductFamilyFactory()
    dcs = [DatacentreFactory(), DatacentreFactory()]
    for _ in range(n):
        gpu = GpuModelFactory()
        OfferFactory(family=family, datacentres=dcs, gpu_model=gpu, gpu_count=1)
        DatacentreGpuModelFactory(datacentre=dcs[0], gpu_model=gpu)
        DatacentreGpuModelFactory(datacentre=dcs[1], gpu_model=gpu)
        GpuSoftwareStackFactory()


# catalogue_version (1) + count (1) + page (1) + prefetched datacentres (1)
LIST_QUERIES = {
    "offers/": 4,
    "families/": 3,
    "images/": 3,
    "gpu-stacks/": 3,
    "datacentres/": 4,
    "gpu-models/": 4,
}


@pytest.mark.parametrize("path", list(LIST_QUERIES))
def test_list_query_count_is_constant_with_one_row(api_client, django_assert_num_queries, path):
    _rows_of_each(1)
    with django_assert_num_queries(LIST_QUERIES[path]):
        assert api_client.get(f"{BASE}/{path}").status_code == 200


@pytest.mark.parametrize("path", list(LIST_QUERIES))
def test_list_query_count_is_constant_with_many_rows(api_client, catalogue, django_assert_num_queries, path):
    _rows_of_each(20)
    with django_assert_num_queries(LIST_QUERIES[path]):
        assert api_client.get(f"{BASE}/{path}").status_code == 200


def test_family_detail_query_count_is_constant(api_client, catalogue, django_assert_num_queries):
    # version + family + offers + their datacentres
    with django_assert_num_queries(4):
        api_client.get(f"{BASE}/families/vps/")
    with django_assert_num_queries(4):
        api_client.get(f"{BASE}/families/gpu/")
