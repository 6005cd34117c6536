"""Back office: every catalogue model is manageable, offers are retired (never deleted), edits are audited."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from apps.catalogue.admin import OfferAdminForm
from apps.catalogue.models import (
    CapacityEnvelope,
    Datacentre,
    GpuModel,
    GpuSoftwareStack,
    Offer,
    OsImage,
    ProductFamily,
)
from apps.core.models import AuditEvent

pytestmark = pytest.mark.django_db

MODELS = [ProductFamily, Offer, GpuModel, Datacentre, OsImage, GpuSoftwareStack, CapacityEnvelope]


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_and_change_page_render_for_every_model(staff_client, catalogue, model):
    opts = model._meta
    response = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert response.status_code == 200
    obj = model.objects.first()
    response = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    assert response.status_code == 200


def test_changelist_search_and_filters(staff_client, catalogue):
    url = reverse("admin:catalogue_offer_changelist")
    response = staff_client.get(url, {"q": "GPU-T"})
    assert [o.code for o in response.context["cl"].result_list] == ["GPU-TITAN"]
    response = staff_client.get(url, {"family__id__exact": ProductFamily.objects.get(slug="cdn").pk})
    assert response.context["cl"].result_count == 4


@pytest.mark.parametrize(
    ("action", "status", "event"),
    [
        ("retire_offers", "retired", "catalogue.offer.retire"),
        ("hide_offers", "hidden", "catalogue.offer.hide"),
    ],
)
def test_bulk_status_actions_go_through_the_audited_service(staff_client, staff_user, catalogue, action, status, event):
    picked = list(Offer.objects.filter(family__slug="load-balancer").values_list("pk", flat=True))
    response = staff_client.post(
        reverse("admin:catalogue_offer_changelist"), {"action": action, "_selected_action": picked}
    )
    assert response.status_code == 302
    assert set(Offer.objects.filter(pk__in=picked).values_list("status", flat=True)) == {status}
    events = AuditEvent.objects.filter(action=event)
    assert events.count() == 4
    assert {e.actor_kind for e in events} == {"staff"}
    assert {e.actor_user_id for e in events} == {staff_user.pk}


def test_activate_action_brings_a_retired_offer_back(staff_client, catalogue):
    offer = Offer.objects.get(code="VPS-NANO")
    Offer.objects.filter(pk=offer.pk).update(status="retired")
    staff_client.post(
        reverse("admin:catalogue_offer_changelist"), {"action": "activate_offers", "_selected_action": [offer.pk]}
    )
    offer.refresh_from_db()
    assert offer.status == "active"
    assert AuditEvent.objects.filter(action="catalogue.offer.activate", target_id=str(offer.pk)).exists()


def test_offers_cannot_be_deleted_from_the_admin(staff_client, catalogue):
    offer = Offer.objects.get(code="VPS-NANO")
    response = staff_client.get(reverse("admin:catalogue_offer_delete", args=[offer.pk]))
    assert response.status_code == 403
    response = staff_client.get(reverse("admin:catalogue_offer_changelist"))
    actions = [name for name, _label in response.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions
    assert {"activate_offers", "hide_offers", "retire_offers"} <= set(actions)
    assert Offer.objects.filter(pk=offer.pk).exists()


def _form_data(offer: Offer, **changes) -> dict:
    data = model_to_dict(offer)
    data["datacentres"] = [dc.pk for dc in data["datacentres"]]
    data["lb_protocols"] = json.dumps(data["lb_protocols"])
    data.update(changes)
    # Browsers omit unchecked boxes and send empty strings for empty fields.
    return {k: ("" if v is None else v) for k, v in data.items() if v is not False}


def test_offer_form_derives_the_hourly_price_for_monthly_families(catalogue):
    offer = Offer.objects.get(code="VPS-NANO")
    form = OfferAdminForm(data=_form_data(offer, price_monthly="36.50", price_hourly=""), instance=offer)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["price_hourly"] == Decimal("0.0500")


def test_offer_form_keeps_the_list_hourly_price_of_gpu_offers_and_requires_it(catalogue):
    offer = Offer.objects.get(code="GPU-PRO")
    form = OfferAdminForm(data=_form_data(offer, price_hourly="1.45"), instance=offer)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["price_hourly"] == Decimal("1.45")
    form = OfferAdminForm(data=_form_data(offer, price_hourly=""), instance=offer)
    assert not form.is_valid()
    assert "price_hourly" in form.errors


def test_editing_an_offer_in_the_admin_is_audited(staff_client, catalogue):
    offer = Offer.objects.get(code="VPS-NANO")
    response = staff_client.post(
        reverse("admin:catalogue_offer_change", args=[offer.pk]), _form_data(offer, price_monthly="36.50")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    offer.refresh_from_db()
    assert (offer.price_monthly, offer.price_hourly) == (Decimal("36.50"), Decimal("0.0500"))
    event = AuditEvent.objects.get(action="catalogue.offer.update")
    assert event.actor_kind == "staff"
    assert "price_monthly" in event.changes


def test_gpu_presence_inline_changes_are_audited(staff_client, catalogue):
    dc = Datacentre.objects.get(code="AMS-1")
    existing = list(dc.gpu_presence.all())
    data = {k: ("" if v is None else v) for k, v in model_to_dict(dc, exclude=["gpu_models"]).items()}
    data.update(
        {
            "gpu_presence-TOTAL_FORMS": len(existing) + 1,
            "gpu_presence-INITIAL_FORMS": len(existing),
            "gpu_presence-MIN_NUM_FORMS": 0,
            "gpu_presence-MAX_NUM_FORMS": 1000,
        }
    )
    for i, p in enumerate(existing):
        data |= {
            f"gpu_presence-{i}-id": p.pk,
            f"gpu_presence-{i}-datacentre": dc.pk,
            f"gpu_presence-{i}-gpu_model": p.gpu_model_id,
            f"gpu_presence-{i}-presence": p.presence,
        }
    n = len(existing)
    data |= {
        f"gpu_presence-{n}-datacentre": dc.pk,
        f"gpu_presence-{n}-gpu_model": GpuModel.objects.get(slug="rtx-4090").pk,
        f"gpu_presence-{n}-presence": "planned",
    }
    response = staff_client.post(reverse("admin:catalogue_datacentre_change", args=[dc.pk]), data)
    assert response.status_code == 302
    assert dc.gpu_presence.filter(gpu_model__slug="rtx-4090", presence="planned").exists()
    assert AuditEvent.objects.filter(action="catalogue.datacentregpumodel.create", actor_kind="staff").exists()
    assert AuditEvent.objects.filter(action="catalogue.datacentre.update").exists()


def test_capacity_envelopes_are_editable_in_the_list(staff_client, catalogue):
    response = staff_client.get(reverse("admin:catalogue_capacityenvelope_changelist"))
    assert response.status_code == 200
    assert 'name="form-0-target_utilisation"' in response.content.decode()
    assert "5376 vCPU" in response.content.decode()
