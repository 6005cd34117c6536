"""Availability is per offer, datacentre and image: an image is offered only where a template builds it
(issue 11, item 7), and GPU software stacks only where their template exists (item 8)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.catalogue.models import GpuSoftwareStack
from apps.infrastructure import choices, services
from apps.infrastructure.selectors import ImageChoice, availability_matrix, offer_availability
from apps.orders.selectors import quote_build
from tests.infrastructure.factories import (
    ClusterFactory,
    DatacentreFactory,
    GpuModelFactory,
    NodeFactory,
    OfferFactory,
    OsImageFactory,
    StorageFactory,
    TemplateFactory,
    envelopes,
    fleet,
    ip_pools,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def par():
    envelopes()
    a100 = GpuModelFactory()
    f = fleet(nodes=2, gpus_per_node=2, gpu_model=a100)
    f["a100"] = a100
    f["ubuntu22"] = OsImageFactory(slug="ubuntu-22.04", version="22.04 LTS", position=2)
    f["stack"] = GpuSoftwareStack.objects.create(
        slug="ubuntu-22.04-cuda-12", name="Ubuntu 22.04 + CUDA 12.x", base_image=f["ubuntu22"], cuda_version="12.x"
    )
    f["gpu_offer"] = OfferFactory(code="GPU-T", gpu_model=a100, gpu_count=1)
    f["vps"] = OfferFactory(code="VPS-T")
    return f


def test_gpu_offer_with_an_image_no_gpu_template_builds_is_unavailable(par):
    """The issue's case: GPU-STARTER "Available" with Ubuntu 24.04 in PAR-1, then refused at order time."""
    offer, dc = par["gpu_offer"], par["dc"]
    # The fleet's GPU template is Ubuntu 24.04; Ubuntu 22.04 has no GPU template.
    assert offer_availability(offer=offer, datacentre=dc).available
    assert offer_availability(offer=offer, datacentre=dc, image=par["image"]).available
    refused = offer_availability(offer=offer, datacentre=dc, image=par["ubuntu22"])
    assert (refused.available, refused.reason) == (False, choices.UnavailableCode.NO_TEMPLATE)
    # The quote says so, with a field message, instead of "Available".
    quote = quote_build(offer=offer, datacentre=dc, image=par["ubuntu22"])
    assert quote.availability == "unavailable" and quote.unavailable_reason == "no_template"
    assert "cannot be built" in quote.errors["image"][0]


def test_stack_is_offered_only_where_its_template_exists(par):
    offer, dc = par["gpu_offer"], par["dc"]
    assert not offer_availability(offer=offer, datacentre=dc, image=par["ubuntu22"], gpu_stack=par["stack"]).available
    TemplateFactory(
        cluster=par["cluster"], os_image=par["ubuntu22"], gpu_stack=par["stack"], gpu_ready=True, name="cuda-12"
    )
    avail = offer_availability(offer=offer, datacentre=dc)
    assert ImageChoice(par["ubuntu22"].pk, par["stack"].pk) in avail.images
    # The stack's template does not make the bare image buildable.
    assert ImageChoice(par["ubuntu22"].pk, None) not in avail.images
    assert offer_availability(offer=offer, datacentre=dc, image=par["ubuntu22"], gpu_stack=par["stack"]).available
    assert not offer_availability(offer=offer, datacentre=dc, image=par["ubuntu22"]).available
    # A CPU offer never gets a GPU template's image or stack.
    assert (
        ImageChoice(par["ubuntu22"].pk, par["stack"].pk)
        not in offer_availability(offer=par["vps"], datacentre=dc).images
    )
    # And placement agrees: the stack really is built.
    reservation = services.placement_reserve(offer=offer, datacentre=dc, image=par["ubuntu22"], gpu_stack=par["stack"])
    assert reservation.template.gpu_stack == par["stack"]


def test_offer_without_any_template_in_a_datacentre_is_unavailable(par):
    ams = DatacentreFactory(code="AMS-1")
    cluster = ClusterFactory(datacentre=ams)
    NodeFactory(cluster=cluster, datacentre=ams)
    StorageFactory(cluster=cluster, node=None, name="ceph-nvme", type="rbd", shared=True, capacity_gb=10_000)
    ip_pools(ams, v4="198.51.100.0/24", v6="2001:db8:20::/64")
    offer = OfferFactory(code="VPS-AMS", datacentres=[ams, par["dc"]])
    matrix = availability_matrix(offers=[offer], datacentres=[par["dc"], ams])
    assert matrix[(offer.pk, par["dc"].pk)].available
    assert (matrix[(offer.pk, ams.pk)].available, matrix[(offer.pk, ams.pk)].reason) == (False, "no_template")


def test_missing_template_or_deprecated_image_is_not_offered(par):
    par["template"].missing_since = par["template"].created_at
    par["template"].save(update_fields=["missing_since"])
    avail = offer_availability(offer=par["vps"], datacentre=par["dc"])
    assert (avail.available, avail.reason, avail.images) == (False, "no_template", ())


def test_image_needing_more_ram_than_the_plan_is_not_offered(par):
    windows = OsImageFactory(slug="windows-server-2022", family="Windows Server", version="2022", min_ram_gb=16)
    TemplateFactory(cluster=par["cluster"], os_image=windows, name="windows")
    assert ImageChoice(windows.pk, None) not in offer_availability(offer=par["vps"], datacentre=par["dc"]).images


def test_availability_api_lists_images_and_answers_per_image(par, api_client):
    TemplateFactory(
        cluster=par["cluster"], os_image=par["ubuntu22"], gpu_stack=par["stack"], gpu_ready=True, name="cuda-12"
    )
    url = reverse("api:availability")
    row = api_client.get(url, {"offer": "GPU-T", "datacentre": par["dc"].code}).json()[0]
    # Catalogue order: image position (the factory's Ubuntu 24.04 has 0), then no stack before stacks.
    assert row["images"] == [
        {"image": "ubuntu-24.04", "gpu_stack": None},
        {"image": "ubuntu-22.04", "gpu_stack": "ubuntu-22.04-cuda-12"},
    ]
    row = api_client.get(url, {"offer": "GPU-T", "datacentre": par["dc"].code, "image": "ubuntu-22.04"}).json()[0]
    assert (row["available"], row["reason"]) == (False, "no_template")
    query = {
        "offer": "GPU-T",
        "datacentre": par["dc"].code,
        "image": "ubuntu-22.04",
        "gpu_stack": "ubuntu-22.04-cuda-12",
    }
    row = api_client.get(url, query).json()[0]
    assert row["available"] is True
    response = api_client.get(url, {"gpu_stack": "ubuntu-22.04-cuda-12"})
    assert response.status_code == 400 and "image" in response.json()["error"]["fields"]
    assert api_client.get(url, {"image": "nope"}).status_code == 404
