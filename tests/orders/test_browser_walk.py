"""Issue 11, "Done when": the portal offers exactly what can be built. A browser walks every offer ×
datacentre × image (× GPU stack) the order form proposes on the test fleet, checks each against the
public availability API, then orders one of each kind the API calls available (a VPS, a GPU server on
a bare image, a GPU server with a software stack, a managed service): each server reaches ``running``
on the simulator, the service its staff fulfilment queue.

The fleet is the instance tests' one (apps/pvesim/fleets/test.yaml) synced from the simulator; a CUDA
stack template is added as operators do (clone, convert, tag ``stack-<slug>``). AMS-1 sells the VPS
but has no cluster: the portal must not propose it, and the API says ``no_template``.
"""

from __future__ import annotations

import re
import time

import pytest
from rest_framework.test import APIClient

from apps.catalogue import choices as catalogue_choices
from apps.catalogue.models import GpuSoftwareStack
from apps.infrastructure import services as infra
from apps.infrastructure.services import cluster_driver
from apps.instances.models import Instance
from apps.orders.choices import FulfilmentStatus
from apps.orders.models import Order
from tests.infrastructure.factories import DatacentreFactory, FamilyFactory, OfferFactory
from tests.instances.conftest import _fast_driver, fleet, sim_vms  # noqa: F401  (fixtures)

STACK_TEMPLATE = 9003


@pytest.fixture
def catalogue(fleet):  # noqa: F811
    """A CUDA stack with its template, a managed service, and AMS-1 selling the VPS without any template."""
    stack = GpuSoftwareStack.objects.create(
        slug="ubuntu-22.04-cuda-12",
        name="Ubuntu 22.04 + CUDA 12.x",
        base_image=fleet.ubuntu22,
        cuda_version="12.x",
        cudnn_version="8.9.x",
        tensorrt_version="8.6 LTS",
        frameworks=["PyTorch", "TensorFlow", "JAX"],
        tools=["Jupyter Lab"],
        container_runtime="Docker + NVIDIA Container Toolkit",
    )
    driver = cluster_driver(cluster=fleet.cluster)
    driver.wait_task("pve1", driver.clone("pve1", 9001, STACK_TEMPLATE, "ubuntu-22.04-cuda-12-gpu"))
    with fleet.sim.cluster.lock:
        vm = fleet.sim.cluster.vms[STACK_TEMPLATE]
        vm.template = True
        vm.config["template"] = 1
        vm.config["tags"] = "os-ubuntu-22.04;gpu;stack-ubuntu-22.04-cuda-12"
    infra.inventory_sync(cluster=fleet.cluster)
    ams = DatacentreFactory(code="AMS-1")
    fleet.vps_offer.datacentres.add(ams)
    service_family = FamilyFactory(
        slug="web-hosting", name="Web hosting", kind=catalogue_choices.FamilyKind.MANAGED_SERVICE
    )
    service = OfferFactory(
        family=service_family, code="WEB-T", vcpu=None, ram_gb=None, disk_gb=None, datacentres=[fleet.dc, ams]
    )
    return {"stack": stack, "service": service, "ams": ams}


def _enabled(page, name: str) -> list[str]:
    """The values of the radio cards of ``name`` that can be chosen (disabled ones say why, and are skipped)."""
    values = page.eval_on_selector_all(
        f'input[type="radio"][name="{name}"]:not([disabled])', "els => els.map(e => e.value)"
    )
    return [v for v in values if v]


def _open(page, **selection: str) -> None:
    """The create flow preselected as a link from the pricing page does (/orders/new/?offer=…): the same
    form code decides what it proposes as when the customer picks each card (tests/orders/test_browser.py)."""
    query = "&".join(f"{k}={v}" for k, v in selection.items() if v)
    page.goto(f"/orders/new/?{query}")
    if selection.get("offer"):
        assert page.locator(f"#offer-{selection['offer']}").is_checked()


def _quote(page, key: str) -> str:
    """The chosen plan's state in the chosen datacentre, as the summary says it (``key``: what was chosen)."""
    flow = page.locator("#order-flow")
    assert (flow.get_attribute("data-key") or "").endswith(key), (flow.get_attribute("data-key"), key)
    return page.locator("#summary").get_attribute("data-availability") or ""


def _api_combos(offer_codes: list[str]) -> set[tuple[str, str, str, str]]:
    """(offer, datacentre, image, stack) the public API calls available."""
    client = APIClient()
    out = set()
    for code in offer_codes:
        for row in client.get("/api/v1/availability/", {"offer": code}).json():
            if not row["available"]:
                continue
            if not row["images"]:
                out.add((row["offer"], row["datacentre"], "", ""))
            for choice in row["images"]:
                out.add((row["offer"], row["datacentre"], choice["image"], choice["gpu_stack"] or ""))
    return out


def _wait(read, until, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if until(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_portal_proposes_exactly_what_can_be_built_and_each_kind_is_delivered(
    login_page,
    fleet,  # noqa: F811
    personas,
    catalogue,
):
    page = login_page(personas.member)
    page.goto("/orders/new/")
    proposed: set[tuple[str, str, str, str]] = set()
    offers = []
    for family in _enabled(page, "family"):
        _open(page, family=family)
        offers += _enabled(page, "offer")
    assert set(offers) == {"GPU-A100", "GPU-A100-L", "VPS-S", "VPS-M", "WEB-T"}
    for offer in offers:
        _open(page, offer=offer)
        datacentres = _enabled(page, "datacentre")
        if offer.startswith("VPS"):
            assert "AMS-1" not in datacentres  # sold there, but no template: not proposed
        for dc in datacentres:
            _open(page, offer=offer, datacentre=dc)
            images = _enabled(page, "image")
            if not images:  # a managed service: no image
                assert _quote(page, f"{offer}|{dc}||") == "on_request"
                proposed.add((offer, dc, "", ""))
                continue
            for image in images:
                _open(page, offer=offer, datacentre=dc, image=image)
                stacks = _enabled(page, "gpu_stack")
                required = page.locator("#gpu-stack-none[disabled]").count() > 0
                for stack in ([] if required else [""]) + stacks:
                    _open(page, offer=offer, datacentre=dc, image=image, gpu_stack=stack)
                    availability = _quote(page, f"{offer}|{dc}|{image}|{stack}")
                    assert availability in ("available", "limited"), (offer, dc, image, stack, availability)
                    proposed.add((offer, dc, image, stack))

    # The portal proposes exactly what the API calls available, image by image.
    assert proposed == _api_combos(offers)
    assert ("GPU-A100", "PAR-1", "ubuntu-22.04", "ubuntu-22.04-cuda-12") in proposed
    assert ("GPU-A100", "PAR-1", "ubuntu-24.04", "") not in proposed  # no GPU template of 24.04

    # One order of each kind the API calls available.
    kinds = {
        "vps": next(c for c in sorted(proposed) if c[0].startswith("VPS")),
        "gpu": next(c for c in sorted(proposed) if c[0].startswith("GPU") and not c[3]),
        "gpu-stack": next(c for c in sorted(proposed) if c[0].startswith("GPU") and c[3]),
        "service": next(c for c in sorted(proposed) if c[0] == "WEB-T"),
    }
    for name, (offer, dc, image, stack) in kinds.items():
        _open(page, offer=offer, datacentre=dc, image=image, gpu_stack=stack)
        _quote(page, f"{offer}|{dc}|{image}|{stack}")
        page.fill("#id_name", name)
        if offer == "WEB-T":  # a managed plan asks for its family's fields (issue 14): the site's domain
            page.fill("#id_service_domain", "walk.example.com")
        page.click("#place-order")
        page.wait_for_url(re.compile(r".*/orders/[0-9a-f-]{36}/$"))

    for name, (offer, _dc, image, stack) in kinds.items():
        order = Order.objects.get(name=name)
        if offer == "WEB-T":
            assert order.fulfilment_status == FulfilmentStatus.QUEUED  # in the staff fulfilment queue
            assert order.service is not None and order.service.config["domain"] == "walk.example.com"
            continue
        instance = _wait(
            lambda name=name: Instance.objects.filter(name=name).first(),
            lambda i: i is not None and i.status == "running",
        )
        assert instance is not None and instance.status == "running", name
        assert sim_vms(fleet.sim)[instance.vmid].running
        assert instance.image.slug == image
        assert (order.gpu_stack.slug if order.gpu_stack else "") == stack
        if stack:
            # Built from the stack's template, and the server page says which stack it runs.
            assert instance.reservation.template.vmid == STACK_TEMPLATE
            page.goto(f"/servers/{instance.public_id}/")
            assert "CUDA 12.x" in page.locator("#server-gpu-stack").inner_text()
