"""Ordering a managed service (issue 14): the order collects the family's data, starts a service, and the
service's life decides the order's end.

The order is the act of buying: placed (or approved) it creates a ``ManagedService`` in
``provisioning`` with the configuration validated against the tier and the PaaS
environment secrets encrypted; staff delivering the service completes the order; a
queued order can be cancelled until staff start on it, and cancels its never-billed service.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.catalogue.choices import FamilyKind
from apps.catalogue.services import seed_data as seed
from apps.core.errors import Conflict, ValidationFailed
from apps.core.models import AuditEvent
from apps.infrastructure.rules import crypto
from apps.managed import services as managed_services
from apps.managed.choices import SecretKind, ServiceState
from apps.managed.models import ManagedService, ServicePricePeriod, ServiceSecret
from apps.orders import services
from apps.orders.choices import FulfilmentStatus, OrderState
from apps.orders.models import Order
from tests.infrastructure.factories import FamilyFactory, OfferFactory
from tests.orders.conftest import place

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
WEB = {"domain": "shop.example.com", "runtime": "php", "version": "8.2", "app": "wordpress"}


@pytest.fixture(autouse=True)
def web_stack(shop):
    """The shop's web hosting family lists the seed's web stack and 1-click apps."""
    family = shop.service.family
    family.features = next(f for f in seed.FAMILIES if f["slug"] == "web-hosting")["features"]
    family.save(update_fields=["features"])


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def paas(shop):
    family = FamilyFactory(slug="paas", name="PaaS", kind=FamilyKind.MANAGED_SERVICE)
    return OfferFactory(
        family=family,
        code="PAAS-TEST",
        vcpu=None,
        ram_gb=None,
        disk_gb=None,
        paas_containers=3,
        paas_ram_per_container_gb=4,
        price_monthly=Decimal("59.00"),
        price_hourly=Decimal("0.0808"),
    )


@pytest.fixture
def cdn(shop):
    family = FamilyFactory(slug="cdn", name="CDN", kind=FamilyKind.MANAGED_SERVICE)
    return OfferFactory(
        family=family, code="CDN-TEST", vcpu=None, ram_gb=None, disk_gb=None, cdn_waf="basic", cdn_pops=10
    )


def body(personas, shop, **overrides):
    data = {
        "project": personas.project.pk,
        "offer": shop.service.code,
        "datacentre": shop.dc.code,
        "name": "shop",
        "service": WEB,
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------
# Placing
# ---------------------------------------------------------------------------
def test_placing_a_web_hosting_order_creates_its_service_with_the_domain(personas, shop):
    order = place(personas, shop, offer=shop.service, name="shop", service={**WEB, "domain": "Bücher.example"})
    assert (order.state, order.fulfilment_status) == (OrderState.PROVISIONING, FulfilmentStatus.QUEUED)
    service = order.service
    assert service is not None and service.state == ServiceState.PROVISIONING
    assert (service.name, service.offer, service.project, service.datacentre) == (
        "shop",
        shop.service,
        personas.project,
        shop.dc,
    )
    assert service.family == "web_hosting"
    assert service.config == {
        "domain": "xn--bcher-kva.example",
        "runtime": "php",
        "version": "8.2",
        "app": "wordpress",
        "extra_domains": [],
    }
    assert order.service_config == service.config
    # The order's frozen prices are the service's; nothing is billed before delivery.
    assert (service.price_hourly, service.price_monthly) == (order.price_hourly, order.price_monthly)
    assert not ServicePricePeriod.objects.filter(service=service).exists()


def test_api_places_a_managed_order_with_its_service_object(personas, shop):
    response = client_for(personas.member).post(ORDERS, body(personas, shop), format="json")
    assert response.status_code == 202, response.json()
    data = response.json()
    service = ManagedService.objects.get()
    assert data["service"] == str(service.public_id)
    assert data["service_config"]["domain"] == "shop.example.com"
    assert data["fulfilment_status"] == "queued" and data["cancellable"] is True


def test_api_names_the_bad_service_fields(personas, shop):
    response = client_for(personas.member).post(
        ORDERS,
        body(personas, shop, service={"domain": "bad_domain", "runtime": "php", "version": "5.6"}),
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"service.domain", "service.version"}
    assert not Order.objects.exists() and not ManagedService.objects.exists()


def test_api_requires_the_service_object_for_a_managed_offer(personas, shop):
    response = client_for(personas.member).post(ORDERS, body(personas, shop, service=None), format="json")
    assert response.status_code == 400
    assert "service.domain" in response.json()["error"]["fields"]


def test_managed_offers_refuse_image_ssh_keys_and_user_data(personas, shop):
    response = client_for(personas.member).post(
        ORDERS,
        body(
            personas,
            shop,
            image=shop.image.slug,
            ssh_keys=[str(uuid.uuid4())],
            user_data="#cloud-config\npackages: [nginx]\n",
        ),
        format="json",
    )
    assert response.status_code == 400
    assert {"image", "ssh_keys", "user_data"} <= set(response.json()["error"]["fields"])
    assert not ManagedService.objects.exists()


def test_servers_refuse_a_service_object_and_keep_their_fields(personas, shop):
    with pytest.raises(ValidationFailed) as exc:
        place(personas, shop, service=WEB)
    assert list(exc.value.fields) == ["service"]
    order = place(personas, shop)  # a server: image, no service object
    assert order.service is None and order.instance is not None


def test_a_service_name_has_at_most_63_characters(personas, shop):
    with pytest.raises(ValidationFailed) as exc:
        place(personas, shop, offer=shop.service, name="a" * 30 + "." + "b" * 40)
    assert "name" in exc.value.fields


def test_the_tier_limits_apply_at_placement(personas, shop, paas):
    with pytest.raises(ValidationFailed) as exc:
        place(
            personas,
            shop,
            offer=paas,
            name="api",
            service={"source": {"kind": "image", "image": "ghcr.io/acme/api:1"}, "containers": 4, "ram_gb": 8},
        )
    assert set(exc.value.fields) == {"service.containers", "service.ram_gb"}


# ---------------------------------------------------------------------------
# PaaS secrets
# ---------------------------------------------------------------------------
PAAS = {
    "source": {"kind": "git", "url": "https://github.com/acme/api.git", "branch": "main"},
    "environment": "prod",
    "env": [{"name": "DATABASE_URL", "value": "postgres://app:s3cret@db/app"}],
    "containers": 3,
    "ram_gb": 4,
}


def test_environment_values_are_stored_encrypted_on_the_service_and_never_shown(personas, shop, paas):
    response = client_for(personas.member).post(
        ORDERS, body(personas, shop, offer=paas.code, name="api", service=PAAS), format="json"
    )
    assert response.status_code == 202, response.json()
    assert "s3cret" not in response.content.decode()
    order = Order.objects.get()
    assert order.service_config["env"] == ["DATABASE_URL"]
    assert order.service_secrets == ""  # handed to the service
    secret = ServiceSecret.objects.get(service=order.service)
    assert (secret.kind, secret.name) == (SecretKind.ENV, "DATABASE_URL")
    assert "s3cret" not in secret.value
    assert crypto.decrypt(secret.value) == "postgres://app:s3cret@db/app"
    assert "s3cret" not in client_for(personas.member).get(f"{ORDERS}{order.public_id}/").content.decode()
    assert not any("s3cret" in json.dumps(e.changes) for e in AuditEvent.objects.all())


def test_an_order_awaiting_approval_keeps_the_secrets_encrypted_until_approved(
    personas, shop, paas, staff_user, settings
):
    settings.ORDERS_APPROVAL_FIRST_ORDER_ABOVE = 10
    order = place(personas, shop, offer=paas, name="api", service=PAAS)
    assert order.state == OrderState.AWAITING_APPROVAL and order.service is None
    assert "s3cret" not in order.service_secrets
    assert json.loads(crypto.decrypt(order.service_secrets)) == {"DATABASE_URL": "postgres://app:s3cret@db/app"}

    order = services.order_approve(order=order, actor=staff_user)
    order.refresh_from_db()
    assert order.state == OrderState.PROVISIONING and order.service is not None
    assert order.service_secrets == ""
    assert crypto.decrypt(ServiceSecret.objects.get(service=order.service).value) == "postgres://app:s3cret@db/app"


def test_a_rejected_order_creates_no_service(personas, shop, paas, staff_user, settings):
    settings.ORDERS_APPROVAL_FIRST_ORDER_ABOVE = 10
    order = place(personas, shop, offer=paas, name="api", service=PAAS)
    services.order_reject(order=order, actor=staff_user, reason="Unverified identity.")
    assert not ManagedService.objects.exists()


# ---------------------------------------------------------------------------
# CDN origin in the organisation
# ---------------------------------------------------------------------------
def test_a_cdn_origin_server_must_be_the_organisations(personas, shop, cdn):
    mine = place(personas, shop, name="origin-1").instance
    theirs = place(personas, shop, name="origin-2").instance
    type(theirs).objects.filter(pk=theirs.pk).update(organisation=personas.other_org)
    service = {"hostnames": ["cdn.example.com"]}
    order = place(
        personas,
        shop,
        offer=cdn,
        name="cdn",
        service={**service, "origin": {"kind": "server", "id": str(mine.public_id)}},
    )
    assert order.service.config["origin"]["name"] == "origin-1"
    with pytest.raises(ValidationFailed) as exc:
        place(
            personas,
            shop,
            offer=cdn,
            name="cdn-2",
            service={**service, "origin": {"kind": "server", "id": str(theirs.public_id)}},
        )
    assert list(exc.value.fields) == ["service.origin.id"]


# ---------------------------------------------------------------------------
# The service decides the order's end
# ---------------------------------------------------------------------------
def test_delivery_of_the_service_completes_the_order(personas, shop, staff_user):
    order = place(personas, shop, offer=shop.service, name="shop", service=WEB)
    managed_services.service_deliver(
        service=order.service, actor=staff_user, endpoints={"urls": ["https://shop.example.com"]}, notes="Live."
    )
    assert services.orders_sync_provisioning() == 1
    order.refresh_from_db()
    assert (order.state, order.fulfilment_status) == (OrderState.COMPLETED, FulfilmentStatus.FULFILLED)
    # Billing follows the service's price period, never the order's old delivery date.
    assert order.fulfilled_at is None
    assert ServicePricePeriod.objects.filter(service=order.service, ended_at__isnull=True).count() == 1
    assert services.orders_sync_provisioning() == 0


def test_a_service_cancelled_before_delivery_cancels_its_order(personas, shop):
    order = place(personas, shop, offer=shop.service, name="shop", service=WEB)
    managed_services.service_cancel(service=order.service, actor=personas.member, confirm_name="shop")
    assert services.orders_sync_provisioning() == 1
    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED


# ---------------------------------------------------------------------------
# Cancelling a queued order
# ---------------------------------------------------------------------------
def test_a_queued_service_order_can_be_cancelled_and_cancels_its_service(personas, shop):
    order = place(personas, shop, offer=shop.service, name="shop", service=WEB)
    assert order.is_cancellable
    response = client_for(personas.member).post(f"{ORDERS}{order.public_id}/cancel/", {}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "cancelled"
    service = ManagedService.objects.get()
    assert service.state == ServiceState.CANCELLED and service.ended_at is not None
    assert not ServicePricePeriod.objects.filter(service=service).exists()  # never billed


def test_once_staff_started_the_order_is_no_longer_cancellable(personas, shop, staff_user):
    order = place(personas, shop, offer=shop.service, name="shop", service=WEB)
    services.order_fulfilment_start(order=order, actor=staff_user)
    order.refresh_from_db()
    assert not order.is_cancellable
    response = client_for(personas.member).post(f"{ORDERS}{order.public_id}/cancel/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_not_cancellable"
    assert ManagedService.objects.get().state == ServiceState.PROVISIONING


def test_staff_starting_on_the_service_makes_its_order_no_longer_cancellable(
    personas, shop, staff_user, django_capture_on_commit_callbacks
):
    # Staff start from the managed services' queue (the service, not the order): the order follows by the signal.
    order = place(personas, shop, offer=shop.service, name="shop", service=WEB)
    with django_capture_on_commit_callbacks(execute=True):
        managed_services.service_fulfilment_start(service=order.service, actor=staff_user)
    order.refresh_from_db()
    assert order.fulfilment_status == FulfilmentStatus.IN_PROGRESS and not order.is_cancellable
    response = client_for(personas.member).post(f"{ORDERS}{order.public_id}/cancel/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_not_cancellable"
    assert ManagedService.objects.get().state == ServiceState.PROVISIONING
    assert AuditEvent.objects.filter(action="orders.order.fulfilment_start", target_id=str(order.pk)).count() == 1
    # Told twice (a redelivered signal): nothing more.
    assert services.order_sync_on_service_fulfilment(service_id=order.service_id).fulfilment_status == "in_progress"
    assert AuditEvent.objects.filter(action="orders.order.fulfilment_start").count() == 1


def test_a_delivered_service_is_cancelled_on_its_page_not_through_its_order(personas, shop, staff_user):
    order = place(personas, shop, offer=shop.service, name="shop", service=WEB)
    managed_services.service_deliver(service=order.service, actor=staff_user, endpoints={}, notes="")
    with pytest.raises(Conflict) as exc:
        services.order_cancel(order=order, actor=personas.member)
    assert exc.value.code == "order_not_cancellable"
    assert ManagedService.objects.get().state == ServiceState.ACTIVE


def test_a_viewer_cannot_cancel_a_queued_order(personas, shop):
    order = place(personas, shop, offer=shop.service, name="shop", service=WEB)
    response = client_for(personas.viewer).post(f"{ORDERS}{order.public_id}/cancel/", {}, format="json")
    assert response.status_code == 403
    assert ManagedService.objects.get().state == ServiceState.PROVISIONING


def test_a_server_order_in_provisioning_is_still_not_cancellable(personas, shop):
    order = place(personas, shop)
    with pytest.raises(Conflict):
        services.order_cancel(order=order, actor=personas.member)


def test_a_name_another_live_service_of_the_project_holds_is_refused(personas, shop):
    place(personas, shop, offer=shop.service, name="shop", service=WEB)
    with pytest.raises(ValidationFailed) as exc:
        place(personas, shop, offer=shop.service, name="shop", service=WEB)
    assert "name" in exc.value.fields
    assert Order.objects.count() == 1 and ManagedService.objects.count() == 1  # nothing half-made


def test_the_live_services_quota_applies_at_placement(personas, shop, settings):
    settings.MANAGED_DEFAULT_QUOTAS = {"max_services": 1}
    client = client_for(personas.member)
    assert client.post(ORDERS, body(personas, shop, name="one"), format="json").status_code == 202
    response = client.post(ORDERS, body(personas, shop, name="two"), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "quota_exceeded"
    assert Order.objects.count() == 1 and ManagedService.objects.count() == 1


def test_service_orders_awaiting_approval_count_against_the_quota(personas, shop, settings):
    settings.MANAGED_DEFAULT_QUOTAS = {"max_services": 1}
    settings.ORDERS_APPROVAL_FIRST_ORDER_ABOVE = 1
    waiting = place(personas, shop, offer=shop.service, name="one", service=WEB)
    assert waiting.state == OrderState.AWAITING_APPROVAL and not ManagedService.objects.exists()
    with pytest.raises(Conflict) as exc:
        place(personas, shop, offer=shop.service, name="two", service=WEB)
    assert exc.value.code == "quota_exceeded"


def test_the_order_completes_as_soon_as_staff_deliver_its_service(
    personas, shop, staff_user, django_capture_on_commit_callbacks
):
    order = place(personas, shop, offer=shop.service, name="shop", service=WEB)
    with django_capture_on_commit_callbacks(execute=True):
        managed_services.service_deliver(service=order.service, actor=staff_user, endpoints={}, notes="Live.")
    order.refresh_from_db()
    assert (order.state, order.fulfilment_status) == (OrderState.COMPLETED, FulfilmentStatus.FULFILLED)
    assert services.orders_sync_provisioning() == 0  # nothing left for the safety net


def test_the_order_is_cancelled_as_soon_as_its_service_is_cancelled_before_delivery(
    personas, shop, django_capture_on_commit_callbacks
):
    order = place(personas, shop, offer=shop.service, name="shop", service=WEB)
    with django_capture_on_commit_callbacks(execute=True):
        managed_services.service_cancel(service=order.service, actor=personas.member, confirm_name="shop")
    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED
