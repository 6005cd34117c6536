"""The home page claims only what the catalogue and fleet hold (issue 11, item 9): FRA-1 is in
maintenance, GPUs are sold in PAR-1 only, and no A40 or L40S (which no offer sells) is shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.catalogue.models import Datacentre, Offer
from apps.infrastructure.models import VmTemplate

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parents[2] / "apps" / "pvesim" / "fleets" / "demo.yaml"
TOKEN = "portal@pve!celery=0c9c4d0e-5d1f-4d5e-9a7e-pvesim-demo00"


@pytest.fixture
def demo():
    call_command("load_catalogue", verbosity=0)
    call_command("fleet_bootstrap", fleet=str(DEMO), token=TOKEN, ip_pools=True)


def _text(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</p>', html, re.S)
    assert match, element_id
    return re.sub(r"<[^>]+>", "", match.group(1))


def _card(html: str, code: str) -> str:
    start = html.index(f'data-datacentre="{code}"')
    return re.sub(r"<[^>]+>", " ", html[start : html.index("</div>\n      </div>", start)])


def _orderable_gpu_models(dc: Datacentre) -> set[str]:
    """Independently of the page's selector: GPU offers sold in dc whose GPU template exists there."""
    if not dc.is_operational or not VmTemplate.objects.filter(cluster__datacentre=dc, gpu_ready=True).exists():
        return set()
    return set(
        Offer.objects.filter(status="active", datacentres=dc, gpu_model__isnull=False).values_list(
            "gpu_model__name", flat=True
        )
    )


def test_home_page_claims_match_the_catalogue_and_fleet(client, demo):
    html = client.get("/").content.decode()
    # "Ready in a minute in …": only where a server can be ordered (FRA-1 is in maintenance).
    ready = _text(html, "ready-in")
    assert "Paris" in ready and "Amsterdam" in ready and "Frankfurt" not in ready
    # The GPU card: models sold, where they are sold, and CUDA images (templates exist for the stacks).
    gpu = _text(html, "gpu-card")
    assert "in Paris" in gpu and "Amsterdam" not in gpu and "CUDA images" in gpu
    for model in ("Tesla T4", "RTX 4090", "A100 40GB", "A100 80GB"):
        assert model in gpu
    # The console preview never shows a GPU server outside the datacentres that sell GPUs.
    hero = dict(re.findall(r'data-hero-offer="([^"]+)" data-hero-region="([^"]+)"', html))
    assert hero["GPU-PRO"] == "PAR-1"
    for code, region in hero.items():
        assert Offer.objects.filter(code=code, datacentres__code=region).exists(), (code, region)
    # Each datacentre card lists the GPU models of offers orderable there, and nothing else.
    all_models = set(Offer.objects.filter(gpu_model__isnull=False).values_list("gpu_model__name", flat=True))
    for dc in Datacentre.objects.all():
        card = _card(html, dc.code)
        shown = {m for m in all_models | {"A40", "L40S"} if m in card}
        assert shown == _orderable_gpu_models(dc), dc.code
    assert "A40" not in html and "L40S" not in html
    assert "Maintenance" in _card(html, "FRA-1") and "VPS" not in _card(html, "FRA-1")
    # Figures: the VPS vCPU range and the number of families come from the catalogue.
    vcpus = sorted(Offer.objects.filter(family__slug="vps", status="active").values_list("vcpu", flat=True))
    assert f"from {vcpus[0]} to {vcpus[-1]} vCPUs" in _text(html, "vps-card")


def test_empty_dashboard_promises_only_datacentres_taking_orders(client, demo, django_user_model):
    client.force_login(django_user_model.objects.create_user(email="new@customer.test"))
    html = client.get("/dashboard/").content.decode()
    ready = _text(html, "empty-ready-in")
    assert "Paris" in ready and "Frankfurt" not in ready


def test_managed_family_cards_quote_the_catalogue_figures(client, demo):
    html = client.get("/").content.decode()
    lb = Offer.objects.filter(lb_requests_per_second__isnull=False).order_by("-lb_requests_per_second").first()
    plus = "+" if lb.lb_requests_per_second_or_more else ""
    assert f"up to {lb.lb_requests_per_second:,}{plus} requests per second" in _text(html, "lb-card")
    iops = list(
        Offer.objects.filter(storage_iops_per_tb__isnull=False)
        .order_by("storage_iops_per_tb")
        .values_list("storage_iops_per_tb", "storage_iops_per_tb_or_more")
    )
    plus = "+" if iops[-1][1] else ""
    assert f"from {iops[0][0]:,} to {iops[-1][0]:,}{plus} IOPS per TB" in _text(html, "storage-card")
    pops = list(
        Offer.objects.filter(cdn_pops__isnull=False).order_by("cdn_pops").values_list("cdn_pops", "cdn_pops_or_more")
    )
    plus = "+" if pops[-1][1] else ""
    assert f"from {pops[0][0]} to {pops[-1][0]}{plus} points of presence" in _text(html, "cdn-card")
    # A figure the catalogue no longer states disappears from the page instead of staying stale.
    Offer.objects.update(cdn_pops=None)
    assert "points of presence" not in _text(client.get("/").content.decode(), "cdn-card")
