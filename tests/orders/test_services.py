"""Order services: validation, capacity first, frozen prices, the state machine, approval and fulfilment."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.catalogue import choices as catalogue_choices
from apps.core.errors import Conflict, PermissionDenied, Unavailable, ValidationFailed
from apps.infrastructure import choices as infrastructure_choices
from apps.infrastructure.models import Node, Reservation
from apps.instances.choices import ActionStatus, InstanceStatus
from apps.instances.models import Action, Instance, SshKey
from apps.managed import services as managed_services
from apps.orders import selectors, services
from apps.orders.choices import FulfilmentStatus, OrderFlag, OrderState
from apps.orders.models import Order, OrganisationQuota
from tests.orders.conftest import place

pytestmark = pytest.mark.django_db

PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl laptop"


def test_vm_order_reserves_capacity_freezes_price_and_starts_provisioning(personas, shop):
    order = place(personas, shop)
    assert order.state == OrderState.PROVISIONING
    assert order.instance is not None
    assert (order.instance.reservation_id, order.instance.price_monthly) == (order.reservation_id, Decimal("9.99"))
    assert order.instance.actions.get().type == "create"
    assert order.reservation is not None
    assert order.reservation.state == infrastructure_choices.ReservationState.RESERVED
    assert order.reservation.holder_ref == order.public_id
    assert (order.price_hourly, order.price_monthly) == (Decimal("0.0137"), Decimal("9.99"))
    assert [(t.from_state, t.to_state) for t in order.transitions.all()] == [
        ("", OrderState.PENDING),
        (OrderState.PENDING, OrderState.PROVISIONING),
    ]
    assert order.transitions.first().actor == personas.member


def test_price_stays_frozen_when_the_offer_price_changes_later(personas, shop):
    order = place(personas, shop)
    shop.vps.price_monthly = Decimal("19.99")
    shop.vps.price_hourly = Decimal("0.0274")
    shop.vps.save()
    order.refresh_from_db()
    assert (order.price_hourly, order.price_monthly) == (Decimal("0.0137"), Decimal("9.99"))


def test_every_invalid_field_is_reported_at_once(personas, shop):
    with pytest.raises(ValidationFailed) as exc:
        place(personas, shop, name="-bad_host-", user_data="echo hello", ssh_keys=[])
    assert set(exc.value.fields) == {"name", "user_data"}
    assert Order.objects.count() == 0


@pytest.mark.parametrize("name", ["web-1", "a", "x" * 63, "0db"])
def test_rfc1123_labels_are_accepted_as_server_names(personas, shop, name):
    assert place(personas, shop, name=name).name == name


@pytest.mark.parametrize(
    "name", ["", "-web", "web-", "web_1", "web 1", "x" * 64, "a..b", "café", "Web-1", "api.example.com"]
)
def test_server_names_that_are_not_one_rfc1123_label_are_refused(personas, shop, name):
    with pytest.raises(ValidationFailed) as exc:
        place(personas, shop, name=name)
    assert "name" in exc.value.fields


@pytest.mark.parametrize("name", ["shop.example.com", "my-site"])
def test_managed_services_may_be_named_by_domain(personas, shop, name):
    assert place(personas, shop, offer=shop.service, name=name).name == name


def test_managed_service_names_still_follow_rfc1123(personas, shop):
    with pytest.raises(ValidationFailed) as exc:
        place(personas, shop, offer=shop.service, name="bad_domain..com")
    assert "name" in exc.value.fields


def test_ssh_keys_must_belong_to_the_organisation(personas, shop):
    mine = SshKey.objects.create(
        organisation=personas.org, name="laptop", public_key=PUBLIC_KEY, key_type="ssh-ed25519", fingerprint="SHA256:a"
    )
    theirs = SshKey.objects.create(
        organisation=personas.other_org, name="x", public_key=PUBLIC_KEY, key_type="ssh-ed25519", fingerprint="SHA256:b"
    )
    with pytest.raises(ValidationFailed) as exc:
        place(personas, shop, ssh_keys=[mine.public_id, theirs.public_id])
    assert exc.value.fields["ssh_keys"] == [f"Unknown SSH key: {theirs.public_id}."]
    order = place(personas, shop, ssh_keys=[mine.public_id])
    assert order.ssh_key_ids == [str(mine.public_id)]
    assert order.instance.ssh_keys == [PUBLIC_KEY]


def test_user_data_over_64_kib_is_refused(personas, shop):
    with pytest.raises(ValidationFailed) as exc:
        place(personas, shop, user_data="#cloud-config\n" + "a" * 64 * 1024)
    assert exc.value.fields["user_data"] == ["User-data is limited to 64 KiB."]


def test_order_without_user_data_is_accepted(personas, shop):
    assert place(personas, shop, user_data="").user_data == ""


@pytest.mark.parametrize("user_data", ["#cloud-config\npackages: [nginx]\n", "#!/bin/sh\necho hi\n"])
def test_user_data_is_refused_where_the_datacentre_has_no_snippets_storage(personas, shop, user_data):
    # The test fleet's cluster has no snippets storage (docs: instances.md, "User-data").
    with pytest.raises(ValidationFailed) as exc:
        place(personas, shop, user_data=user_data)
    assert exc.value.code == "user_data_unavailable"
    assert "not available in this datacentre yet" in exc.value.fields["user_data"][0]


def test_image_needing_more_ram_than_the_offer_is_refused(personas, shop):
    shop.image.min_ram_gb = 8  # e.g. Windows Server
    shop.image.save()
    with pytest.raises(ValidationFailed) as exc:
        place(personas, shop)
    assert "image" in exc.value.fields
    assert Reservation.objects.count() == 0


def test_vm_order_without_image_is_refused(personas, shop):
    with pytest.raises(ValidationFailed) as exc:
        place(personas, shop, image=None)
    assert "image" in exc.value.fields


def test_retired_offer_and_datacentre_not_selling_it_are_refused(personas, shop):
    shop.vps.status = catalogue_choices.OfferStatus.RETIRED
    shop.vps.save()
    shop.vps.datacentres.clear()
    with pytest.raises(ValidationFailed) as exc:
        place(personas, shop)
    assert set(exc.value.fields) == {"offer", "datacentre"}


def test_datacentre_in_maintenance_is_refused(personas, shop):
    shop.dc.status = catalogue_choices.DatacentreStatus.MAINTENANCE
    shop.dc.save()
    with pytest.raises(ValidationFailed) as exc:
        place(personas, shop)
    assert "datacentre" in exc.value.fields


def test_no_capacity_is_a_clear_error_and_nothing_is_created_or_charged(personas, shop):
    Node.objects.update(maintenance=True)
    with pytest.raises(Unavailable) as exc:
        place(personas, shop)
    assert exc.value.code == infrastructure_choices.UnavailableCode.NO_CAPACITY
    assert Order.objects.count() == 0
    assert Reservation.objects.count() == 0


def test_viewer_cannot_place_an_order(personas, shop):
    with pytest.raises(PermissionDenied):
        place(personas, shop, actor=personas.viewer)
    assert Order.objects.count() == 0


def test_suspended_organisation_cannot_order(personas, shop):
    personas.org.suspended_at = timezone.now()
    personas.org.save()
    with pytest.raises(PermissionDenied) as exc:
        place(personas, shop)
    assert exc.value.code == "organisation_suspended"


def test_project_of_another_organisation_is_refused(personas, shop):
    with pytest.raises(ValidationFailed) as exc:
        place(personas, shop, project=personas.other_project)
    assert "project" in exc.value.fields


def test_deleted_instances_no_longer_count_against_the_quota(personas, shop):
    OrganisationQuota.objects.create(organisation=personas.org, max_instances=1)
    first = place(personas, shop)
    Instance.objects.filter(pk=first.instance_id).update(status=InstanceStatus.DELETED)
    assert place(personas, shop, name="web-2").state == OrderState.PROVISIONING


def test_instance_quota_is_enforced(personas, shop):
    OrganisationQuota.objects.create(organisation=personas.org, max_instances=1)
    place(personas, shop)
    with pytest.raises(PermissionDenied) as exc:
        place(personas, shop, name="web-2")
    assert exc.value.code == "quota_exceeded"
    assert Order.objects.count() == 1


def test_gpu_quota_is_enforced(personas, shop, settings):
    settings.ORDERS_DEFAULT_QUOTAS = {"max_instances": 10, "max_gpus": 0}
    with pytest.raises(PermissionDenied) as exc:
        place(personas, shop, offer=shop.gpu)
    assert exc.value.code == "quota_exceeded"


def test_gpu_stack_is_refused_for_a_vps(personas, shop):
    from tests.catalogue.factories import GpuSoftwareStackFactory

    stack = GpuSoftwareStackFactory(base_image=shop.image)
    with pytest.raises(ValidationFailed) as exc:
        place(personas, shop, gpu_stack=stack)
    assert "gpu_stack" in exc.value.fields


# ---------------------------------------------------------------------------
# Approval
# ---------------------------------------------------------------------------
def test_first_large_order_of_a_new_organisation_waits_for_approval(personas, shop, settings):
    settings.ORDERS_APPROVAL_FIRST_ORDER_ABOVE = "50"
    order = place(personas, shop, offer=shop.gpu)
    assert order.state == OrderState.AWAITING_APPROVAL
    assert order.flags == [OrderFlag.FIRST_ORDER_ABOVE_THRESHOLD]
    assert order.reservation.state == infrastructure_choices.ReservationState.RESERVED  # capacity held meanwhile
    assert list(selectors.approval_queue()) == [order]


def test_later_large_orders_are_not_flagged(personas, shop, settings):
    settings.ORDERS_APPROVAL_FIRST_ORDER_ABOVE = "50"
    place(personas, shop)  # a small first order, delivered
    assert place(personas, shop, offer=shop.gpu, name="gpu-1").state == OrderState.PROVISIONING


def test_gpu_orders_wait_for_approval_when_configured(personas, shop, settings):
    settings.ORDERS_APPROVAL_GPU = True
    order = place(personas, shop, offer=shop.gpu)
    assert order.flags == [OrderFlag.GPU_REVIEW]
    assert place(personas, shop, name="web-2").state == OrderState.PROVISIONING


def test_staff_approval_starts_provisioning_and_is_recorded(personas, shop, settings, staff_user):
    settings.ORDERS_APPROVAL_GPU = True
    order = services.order_approve(order=place(personas, shop, offer=shop.gpu), actor=staff_user)
    assert order.state == OrderState.PROVISIONING
    last = order.transitions.last()
    assert (last.to_state, last.actor, last.reason) == (OrderState.PROVISIONING, staff_user, "Approved by staff.")


def test_rejection_releases_capacity_and_shows_the_reason(personas, shop, settings, staff_user):
    settings.ORDERS_APPROVAL_GPU = True
    order = place(personas, shop, offer=shop.gpu)
    order = services.order_reject(order=order, actor=staff_user, reason="Please verify your identity first.")
    assert order.state == OrderState.REJECTED
    assert order.rejection_reason == "Please verify your identity first."
    order.reservation.refresh_from_db()
    assert order.reservation.state == infrastructure_choices.ReservationState.RELEASED


def test_rejection_needs_a_reason(personas, shop, settings, staff_user):
    settings.ORDERS_APPROVAL_GPU = True
    order = place(personas, shop, offer=shop.gpu)
    with pytest.raises(ValidationFailed):
        services.order_reject(order=order, actor=staff_user, reason="  ")


def test_a_provisioning_order_cannot_be_rejected_or_approved(personas, shop, staff_user):
    order = place(personas, shop)
    with pytest.raises(Conflict):
        services.order_reject(order=order, actor=staff_user, reason="no")
    with pytest.raises(Conflict):
        services.order_approve(order=order, actor=staff_user)


def test_staff_retry_a_failed_order_with_fresh_capacity(personas, shop, staff_user):
    order = place(personas, shop)
    Instance.objects.filter(pk=order.instance_id).update(status=InstanceStatus.DELETED)
    order = services.order_fail(order=order, actor=None, message="The server could not be built.")
    assert order.state == OrderState.FAILED
    first = order.reservation
    first.refresh_from_db()
    assert first.state == infrastructure_choices.ReservationState.RELEASED
    order = services.order_retry(order=order, actor=staff_user)
    assert order.state == OrderState.PROVISIONING
    assert order.reservation_id != first.pk
    assert order.error_message == ""


# ---------------------------------------------------------------------------
# Cancellation
# ---------------------------------------------------------------------------
def test_cancel_while_awaiting_approval_releases_the_reservation(personas, shop, settings):
    settings.ORDERS_APPROVAL_GPU = True
    order = services.order_cancel(order=place(personas, shop, offer=shop.gpu), actor=personas.member)
    assert order.state == OrderState.CANCELLED
    order.reservation.refresh_from_db()
    assert order.reservation.state == infrastructure_choices.ReservationState.RELEASED


def test_provisioning_order_cannot_be_cancelled(personas, shop):
    with pytest.raises(Conflict) as exc:
        services.order_cancel(order=place(personas, shop), actor=personas.member)
    assert exc.value.code == "order_not_cancellable"


def test_viewer_cannot_cancel(personas, shop, settings):
    settings.ORDERS_APPROVAL_GPU = True
    order = place(personas, shop, offer=shop.gpu)
    with pytest.raises(PermissionDenied):
        services.order_cancel(order=order, actor=personas.viewer)


# ---------------------------------------------------------------------------
# Managed services
# ---------------------------------------------------------------------------
def test_non_vm_products_land_in_the_fulfilment_queue_and_are_never_dropped(personas, shop, staff_user):
    order = place(personas, shop, offer=shop.service, name="shop.example.com")
    assert (order.state, order.fulfilment_status) == (OrderState.PROVISIONING, FulfilmentStatus.QUEUED)
    assert order.reservation is None
    assert list(selectors.fulfilment_queue()) == [order]
    order = services.order_fulfilment_start(order=order, actor=staff_user)
    assert order.fulfilment_status == FulfilmentStatus.IN_PROGRESS
    assert list(selectors.fulfilment_queue()) == [order]
    # Issue 14: delivery is the service's (endpoints, credentials, notes), no longer a free-text note on the
    # order; the order follows its service.
    managed_services.service_deliver(
        service=order.service, actor=staff_user, endpoints={"urls": ["https://cp1.vmcloud.eu"]}, notes="cPanel"
    )
    assert services.orders_sync_provisioning() == 1
    order.refresh_from_db()
    assert (order.state, order.fulfilment_status) == (OrderState.COMPLETED, FulfilmentStatus.FULFILLED)
    assert order.service.delivery_notes == "cPanel"
    assert list(selectors.fulfilment_queue()) == []


def test_managed_services_take_no_image(personas, shop):
    with pytest.raises(ValidationFailed) as exc:
        place(personas, shop, offer=shop.service, image=shop.image)
    assert "image" in exc.value.fields


# ---------------------------------------------------------------------------
# Quotes
# ---------------------------------------------------------------------------
def test_quote_gives_price_and_live_availability_and_changes_nothing(shop):
    quote = selectors.quote_build(offer=shop.gpu, datacentre=shop.dc, image=shop.image)
    assert (quote.price_hourly, quote.price_monthly) == (Decimal("0.390000"), Decimal("80.00"))
    assert quote.available_count == 4  # two nodes with two GPUs each
    assert quote.orderable
    assert Reservation.objects.count() == 0


def test_quote_reports_problems_and_no_capacity(shop):
    Node.objects.update(maintenance=True)
    shop.image.min_ram_gb = 64
    shop.image.save()
    quote = selectors.quote_build(offer=shop.vps, datacentre=shop.dc, image=shop.image)
    assert quote.availability == "unavailable"
    assert "image" in quote.errors
    assert not quote.orderable


def test_quote_of_a_managed_service_is_on_request(shop):
    quote = selectors.quote_build(offer=shop.service, datacentre=shop.dc)
    assert (quote.availability, quote.available_count, quote.orderable) == ("on_request", None, True)


# ---------------------------------------------------------------------------
# Following the instance
# ---------------------------------------------------------------------------
def test_order_completes_when_its_server_runs(personas, shop):
    order = place(personas, shop)
    assert services.orders_sync_provisioning() == 0  # still provisioning
    Instance.objects.filter(pk=order.instance_id).update(status=InstanceStatus.RUNNING)
    assert services.orders_sync_provisioning() == 1
    order.refresh_from_db()
    assert order.state == OrderState.COMPLETED
    assert order.transitions.last().reason == "The server is ready."


def test_order_fails_with_the_servers_message_when_provisioning_fails(personas, shop):
    order = place(personas, shop)
    Instance.objects.filter(pk=order.instance_id).update(
        status=InstanceStatus.ERROR, error_message="The image could not be cloned."
    )
    services.orders_sync_provisioning()
    order.refresh_from_db()
    assert (order.state, order.error_message) == (OrderState.FAILED, "The image could not be cloned.")


def test_retry_resumes_a_server_whose_provisioning_failed(personas, shop, staff_user):
    order = place(personas, shop)
    Instance.objects.filter(pk=order.instance_id).update(status=InstanceStatus.ERROR, error_message="Clone failed.")
    Action.objects.filter(instance_id=order.instance_id).update(status=ActionStatus.ERROR)
    services.orders_sync_provisioning()
    order.refresh_from_db()
    assert order.state == OrderState.FAILED
    order = services.order_retry(order=order, actor=staff_user)
    assert order.state == OrderState.PROVISIONING
    instance = Instance.objects.get(pk=order.instance_id)  # the same server, resumed
    assert instance.status == InstanceStatus.PROVISIONING
    assert Instance.objects.count() == 1


def test_the_state_machine_refuses_a_transition_it_does_not_list(personas, shop, staff_user):
    order = place(personas, shop, offer=shop.service, name="svc")
    managed_services.service_deliver(service=order.service, actor=staff_user, endpoints={}, notes="done")
    services.order_sync_service(order=order)
    with pytest.raises(Conflict) as exc:
        services.order_fail(order=order, actor=staff_user, message="late")
    assert exc.value.code == "order_invalid_transition"
    order.refresh_from_db()
    assert order.state == OrderState.COMPLETED
