"""Loading the seed (idempotent, keeps staff edits, audited) and changing offer status."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from apps.catalogue import choices, selectors
from apps.catalogue.models import (
    CapacityEnvelope,
    Datacentre,
    DatacentreGpuModel,
    GpuModel,
    GpuSoftwareStack,
    Offer,
    OsImage,
    ProductFamily,
)
from apps.catalogue.services import catalogue_load_seed, offer_set_status, offers_set_status
from apps.core.errors import ValidationFailed
from apps.core.models import AuditEvent

pytestmark = pytest.mark.django_db

MODELS = [ProductFamily, Offer, GpuModel, Datacentre, DatacentreGpuModel, OsImage, GpuSoftwareStack, CapacityEnvelope]


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in MODELS} | {"links": Offer.datacentres.through.objects.count()}


def test_loading_twice_creates_nothing_the_second_time(catalogue):
    before = counts()
    report = catalogue_load_seed(actor=None)
    assert report.total_created == 0
    assert sum(report.kept.values()) == 7 + 36 + 6 + 3 + 17 + 4 + 7
    assert counts() == before


def test_loader_keeps_staff_edits_unless_reset(catalogue):
    Offer.objects.filter(code="VPS-NANO").update(price_monthly=Decimal("31.00"), status=choices.OfferStatus.HIDDEN)
    Offer.objects.get(code="VPS-NANO").datacentres.clear()
    Datacentre.objects.filter(code="FRA-1").update(status=choices.DatacentreStatus.OPERATIONAL)

    catalogue_load_seed(actor=None)
    nano = Offer.objects.get(code="VPS-NANO")
    assert (nano.price_monthly, nano.status, nano.datacentres.count()) == (Decimal("31.00"), "hidden", 0)
    assert Datacentre.objects.get(code="FRA-1").status == "operational"

    report = catalogue_load_seed(actor=None, reset=True)
    nano.refresh_from_db()
    assert (nano.price_monthly, nano.status) == (Decimal("29"), "active")
    assert set(nano.datacentres.values_list("code", flat=True)) == {"PAR-1", "AMS-1"}
    assert Datacentre.objects.get(code="FRA-1").status == "maintenance"
    assert report.reset["offer"] == 36 and not report.created


def test_reset_puts_back_gpu_presence_and_leaves_staff_rows(catalogue):
    par = Datacentre.objects.get(code="PAR-1")
    DatacentreGpuModel.objects.create(datacentre=par, gpu_model=GpuModel.objects.get(slug="l40s"))
    staff_family = ProductFamily.objects.create(slug="bare-metal", name="Bare metal", kind="vm")
    catalogue_load_seed(actor=None, reset=True)
    assert not par.gpu_presence.filter(gpu_model__slug="l40s").exists()
    assert ProductFamily.objects.filter(pk=staff_family.pk).exists()


def test_seed_load_is_audited_with_its_counts(catalogue, staff_user):
    event = AuditEvent.objects.filter(action="catalogue.seed_load").latest("id")
    assert event.actor_kind == "system"
    assert event.changes["created"]["offer"] == 36
    catalogue_load_seed(actor=staff_user, reset=True)
    event = AuditEvent.objects.filter(action="catalogue.seed_load").latest("id")
    assert event.actor_user_id == staff_user.pk
    assert event.changes["mode"] == "reset"
    assert event.changes["reset"]["offer"] == 36


def test_load_catalogue_command_is_idempotent(db, capsys):
    call_command("load_catalogue")
    call_command("load_catalogue")
    out = capsys.readouterr().out
    assert "created: capacityenvelope 7, datacentre 3, gpumodel 6, gpusoftwarestack 4, offer 36" in out
    assert "created: none" in out
    assert Offer.objects.count() == 36


def test_load_catalogue_command_reset_flag(catalogue, capsys):
    Offer.objects.filter(code="CDN-PRO").update(price_monthly=Decimal("1"))
    call_command("load_catalogue", "--reset")
    assert Offer.objects.get(code="CDN-PRO").price_monthly == Decimal("99")


def test_retiring_an_offer_is_audited_and_hides_it_from_public_lists(catalogue, staff_user):
    nano = Offer.objects.get(code="VPS-NANO")
    offer_set_status(actor=staff_user, offer=nano, status=choices.OfferStatus.RETIRED)
    event = AuditEvent.objects.get(action="catalogue.offer.retire")
    assert event.changes == {"status": ["active", "retired"]}
    assert event.target_id == str(nano.pk)
    assert not selectors.offer_list_public().filter(code="VPS-NANO").exists()
    # Orders and instances can still load it.
    assert selectors.offer_get(code="VPS-NANO").status == "retired"


def test_setting_the_same_status_writes_no_event(catalogue, staff_user):
    changed = offers_set_status(
        actor=staff_user, offers=Offer.objects.filter(family__slug="cdn"), status=choices.OfferStatus.ACTIVE
    )
    assert changed == 0
    assert not AuditEvent.objects.filter(action__startswith="catalogue.offer.").exists()


def test_unknown_status_is_refused(catalogue, staff_user):
    with pytest.raises(ValidationFailed):
        offer_set_status(actor=staff_user, offer=Offer.objects.first(), status="deleted")


def test_hidden_offer_is_orderable_by_code_but_not_listed(catalogue, staff_user):
    offer_set_status(actor=staff_user, offer=Offer.objects.get(code="GPU-TITAN"), status="hidden")
    assert selectors.offer_get_public(code="GPU-TITAN").code == "GPU-TITAN"
    assert "GPU-TITAN" not in {o.code for o in selectors.offer_list_public()}


def test_availability_hook_answers_false_from_catalogue_facts_and_defers_the_rest(catalogue):
    gpu = Offer.objects.get(code="GPU-PRO")
    par, ams, fra = (Datacentre.objects.get(code=c) for c in ("PAR-1", "AMS-1", "FRA-1"))
    assert selectors.offer_availability(offer=gpu, datacentre=ams) is False  # not sold there
    assert selectors.offer_availability(offer=gpu, datacentre=fra) is False  # maintenance
    registered = selectors._availability_provider  # the infrastructure app registers one at start-up
    seen: list[tuple[str, str]] = []

    def provider(o, d):
        seen.append((o.code, d.code))
        return True

    try:
        selectors.availability_provider_register(None)
        assert selectors.offer_availability(offer=gpu, datacentre=par) is None  # no provider: unknown
        selectors.availability_provider_register(provider)
        assert selectors.offer_availability(offer=gpu, datacentre=par) is True
        assert seen == [("GPU-PRO", "PAR-1")]
        # The catalogue answers "no" itself, without asking the provider.
        assert selectors.offer_availability(offer=gpu, datacentre=ams) is False
        assert seen == [("GPU-PRO", "PAR-1")]
    finally:
        selectors.availability_provider_register(registered)


def test_pricing_markdown_lists_every_offer_with_both_prices(catalogue):
    md = selectors.pricing_markdown()
    for offer in Offer.objects.all():
        line = next(line for line in md.splitlines() if f"**{offer.code}**" in line)
        assert line.count("|") >= 5
    assert "| **VPS-NANO** | Starter | 1 | 2 GB | 40 GB NVMe | 5 TB | 99.9% | €0.0397 | €29.00 |" in md
    assert (
        "| **GPU-SUPERCOMPUTE** | Premium | 8× A100 80GB | 640 GB | 256 | 1 TB | 64 TB NVMe | €33.60 | €18,559.00 |"
        in md
    )
    assert "| **STORAGE-DEDICATED** | Premium | NVMe RAID 10 | 500K+ | < 0.05 ms | €0.000548 | €0.40 |" in md
    assert "| **LB-GLOBAL** | Premium | Unlimited | 1M+ |" in md
    assert "| **CDN-GLOBAL** | Premium | 150+ | Worldwide | 1 PB | Custom rules |" in md
    assert md.count("\n## ") + md.startswith("## ") == 7
