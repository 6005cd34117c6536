"""The GPU risk policy (issue 11, item 13): a brand-new organisation with no payment method and no billing
identity does not get a GPU at once; the customer reads why, staff see the signals and tune the rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.orders.choices import OrderFlag, OrderState
from apps.orders.selectors import gpu_risk as risk
from apps.teams.models import Organisation
from tests.orders.conftest import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy():
    """The policy as production starts it (tests start with it off: config/settings/test.py)."""
    row = risk.gpu_risk_policy_get()
    row.enabled = True
    row.save()
    return row


@pytest.fixture
def pays():
    """Billing says the organisation has a saved payment method."""
    risk.payment_method_provider_register(lambda organisation: True)
    yield
    from apps.billing.selectors import payment_method_list

    risk.payment_method_provider_register(lambda organisation: bool(payment_method_list(organisation=organisation)))


def _age(org: Organisation, days: int) -> None:
    Organisation.objects.filter(pk=org.pk).update(created_at=timezone.now() - timedelta(days=days))
    org.refresh_from_db()


def test_new_organisation_without_payment_or_identity_waits_with_the_reasons(personas, shop, policy, client):
    # The case: the first order (a cheap VPS) passes, the GPU one must not start at once.
    assert place(personas, shop).state == OrderState.PROVISIONING
    order = place(personas, shop, offer=shop.gpu, name="gpu-1")
    assert order.state == OrderState.AWAITING_APPROVAL
    assert set(order.flags) == {
        OrderFlag.GPU_NEW_ORGANISATION,
        OrderFlag.GPU_NO_PAYMENT_METHOD,
        OrderFlag.GPU_NO_BILLING_IDENTITY,
    }
    # The customer reads why on the order page.
    client.force_login(personas.member)
    html = client.get(reverse("orders:order_detail", args=[order.public_id])).content.decode()
    assert 'id="order-flags"' in html
    for flag in order.flags:
        assert str(OrderFlag(flag).label) in html


def test_established_organisation_that_can_pay_gets_its_gpu_at_once(personas, shop, policy, pays):
    personas.org.country = "FR"
    personas.org.legal_name = "Acme SAS"
    personas.org.save()
    _age(personas.org, 30)
    assert place(personas, shop, offer=shop.gpu, name="gpu-1").state == OrderState.PROVISIONING


@pytest.mark.parametrize(
    ("tweak", "flag"),
    [
        ({"age": 2}, OrderFlag.GPU_NEW_ORGANISATION),
        ({"country": ""}, OrderFlag.GPU_NO_BILLING_IDENTITY),
        ({"legal_name": ""}, OrderFlag.GPU_NO_BILLING_IDENTITY),
    ],
)
def test_each_signal_alone_holds_a_gpu_order(personas, shop, policy, pays, tweak, flag):
    personas.org.country = tweak.get("country", "FR")
    personas.org.legal_name = tweak.get("legal_name", "Acme SAS")
    personas.org.save()
    _age(personas.org, tweak.get("age", 30))
    order = place(personas, shop, offer=shop.gpu, name="gpu-1")
    assert (order.state, order.flags) == (OrderState.AWAITING_APPROVAL, [flag])


def test_staff_tune_the_policy_and_cpu_orders_are_never_held(personas, shop, policy):
    assert place(personas, shop).state == OrderState.PROVISIONING  # a VPS: the GPU policy does not apply
    policy.min_organisation_age_days = 0
    policy.require_payment_method = False
    policy.require_billing_identity = False
    policy.save()
    assert place(personas, shop, offer=shop.gpu, name="gpu-1").state == OrderState.PROVISIONING
    policy.review_all = True
    policy.save()
    order = place(personas, shop, offer=shop.gpu, name="gpu-2")
    assert order.flags == [OrderFlag.GPU_REVIEW]


def test_staff_see_the_signals_next_to_the_order_and_edit_the_policy(personas, shop, policy, client, staff_user):
    order = place(personas, shop, offer=shop.gpu, name="gpu-1")
    client.force_login(staff_user)
    queue = client.get(reverse("admin:orders_approvalqueueorder_changelist")).content.decode()
    assert str(order.public_id) in queue and "payment method: no" in queue
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "GPU risk signals" in page and "days old" in page
    url = reverse("admin:orders_gpuriskpolicy_change", args=[policy.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "enabled": "on",
            "min_organisation_age_days": "14",
            "require_payment_method": "on",
            "require_billing_identity": "on",
        },
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.min_organisation_age_days == 14 and not policy.review_all
