"""`make run`'s demo data: catalogue, fleet and logins that work straight away, idempotently."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from apps.accounts.models import User
from apps.billing.models import CreditGrant
from apps.catalogue.models import Offer
from apps.infrastructure.models import GpuDevice
from apps.teams.choices import Role
from apps.teams.models import Membership

pytestmark = pytest.mark.django_db


def test_demo_setup_gives_a_customer_who_can_order_and_is_idempotent(client):
    call_command("demo_setup", verbosity=0)
    call_command("demo_setup", verbosity=0)

    # The catalogue's 36 offers, and the floating IPs' add-on at its marked placeholder price (issue 13).
    assert Offer.objects.exclude(family__slug="add-ons").count() == 36
    assert Offer.objects.get(family__slug="add-ons").description.startswith("PLACEHOLDER PRICE")
    assert GpuDevice.objects.count() == 85
    customer = User.objects.get(email="demo@vmcloud.test")
    membership = Membership.objects.get(user=customer)
    assert membership.role == Role.OWNER
    assert membership.organisation.projects.filter(is_default=True).exists()
    assert User.objects.get(email="admin@vmcloud.test").is_staff
    assert client.login(email="demo@vmcloud.test", password="vmcloud-demo-2026")
    assert client.get("/orders/new/").status_code == 200
    # Billing shows VAT and a credit at once: a French consumer with one welcome credit (not two).
    organisation = membership.organisation
    assert organisation.country == "FR"
    assert CreditGrant.objects.filter(organisation=organisation).count() == 1
    assert client.get("/billing/credits/").status_code == 200
