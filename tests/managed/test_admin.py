"""The managed services' back office: lists, the fulfilment queue's delivery form, lifecycle actions."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.test import TestCase

from apps.infrastructure.rules import crypto
from apps.managed.choices import ServiceState
from apps.managed.models import ManagedService, ServiceUsage
from tests.managed.factories import service_row

pytestmark = pytest.mark.django_db


def test_back_office_pages_render(personas, shop, client):
    active = service_row(personas, shop, name="live")
    waiting = service_row(personas, shop, name="waiting", active=False)
    client.force_login(personas.staff)
    for url in (
        "/admin/managed/managedservice/",
        "/admin/managed/managedservice/?family__exact=web_hosting&state__exact=active",
        f"/admin/managed/managedservice/{active.pk}/change/",
        "/admin/managed/fulfilmentqueueservice/",
        f"/admin/managed/fulfilmentqueueservice/{waiting.pk}/deliver/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(f"/admin/managed/managedservice/{active.pk}/change/").content.decode()
    assert "sftp_password" in page and "s3cret" not in page  # names only, never values
    queue = client.get("/admin/managed/fulfilmentqueueservice/").content.decode()
    assert "waiting" in queue and ">live<" not in queue


def test_customers_cannot_open_the_back_office(personas, shop, client):
    waiting = service_row(personas, shop, active=False)
    client.force_login(personas.owner)
    response = client.get(f"/admin/managed/fulfilmentqueueservice/{waiting.pk}/deliver/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_staff_deliver_through_the_family_form(personas, shop, client):
    waiting = service_row(personas, shop, name="waiting", active=False)
    client.force_login(personas.staff)
    url = f"/admin/managed/fulfilmentqueueservice/{waiting.pk}/deliver/"
    form = client.get(url).content.decode()
    assert "credential_sftp_password" in form and "credential_panel_password" in form
    bad = client.post(url, {"extra_credentials": "no-equals-sign"})
    assert bad.status_code == 200 and ManagedService.objects.get(pk=waiting.pk).state == ServiceState.PROVISIONING
    response = client.post(
        url,
        {
            "urls": "https://waiting.example\nhttps://www.waiting.example",
            "hostnames": "waiting.example",
            "credential_sftp_password": "pa55",
            "extra_credentials": "mysql_user=shop",
            "notes": "Point your DNS at 203.0.113.7.",
        },
    )
    assert response.status_code == 302
    service = ManagedService.objects.get(pk=waiting.pk)
    assert service.state == ServiceState.ACTIVE and service.price_periods.count() == 1
    assert service.endpoints == {
        "urls": ["https://waiting.example", "https://www.waiting.example"],
        "hostnames": ["waiting.example"],
    }
    assert service.delivery_notes == "Point your DNS at 203.0.113.7."
    secrets = {s.name: crypto.decrypt(s.value) for s in service.secrets.filter(kind="credential")}
    assert secrets == {"sftp_password": "pa55", "mysql_user": "shop"}
    # Delivered: out of the queue; delivering again is refused with the state machine's message.
    again = client.post(url, {"notes": "twice"})
    assert again.status_code == 200 and "cannot become" in again.content.decode()


def _action(client, action, pks, **data):
    body = {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(pk) for pk in pks], **data}
    return client.post("/admin/managed/managedservice/", body)


def test_suspend_resume_terminate_and_usage_actions(personas, shop, client):
    service = service_row(personas, shop)
    client.force_login(personas.staff)
    form = _action(client, "suspend", [service.pk])
    assert form.status_code == 200 and "reason" in form.content.decode()  # asks for the reason first
    assert _action(client, "suspend", [service.pk], apply="1", reason="abuse").status_code == 302
    assert ManagedService.objects.get(pk=service.pk).state == ServiceState.SUSPENDED
    _action(client, "resume", [service.pk], apply="1", reason="cleared")
    assert ManagedService.objects.get(pk=service.pk).state == ServiceState.ACTIVE
    _action(client, "record_usage", [service.pk], apply="1", metric="storage_gb", value="12.5", note="")
    assert ServiceUsage.objects.get(service=service).value == 12.5
    _action(client, "terminate", [service.pk], apply="1", reason="contract ended")
    ended = ManagedService.objects.get(pk=service.pk)
    assert ended.state == ServiceState.TERMINATED and ended.price_periods.get().ended_at == ended.ended_at


def test_staff_start_work_from_the_queue_once(personas, shop, client):
    from apps.core.models import AuditEvent
    from apps.managed.signals import service_fulfilment_started

    waiting = service_row(personas, shop, name="waiting", active=False)
    seen: list[int] = []

    def receiver(sender, *, service_id, **kwargs):
        seen.append(service_id)

    service_fulfilment_started.connect(receiver, dispatch_uid="test-fulfilment-started")
    try:
        client.force_login(personas.staff)
        body = {"action": "fulfilment_start", helpers.ACTION_CHECKBOX_NAME: [str(waiting.pk)]}
        with TestCase.captureOnCommitCallbacks(execute=True):
            assert client.post("/admin/managed/fulfilmentqueueservice/", body).status_code == 302
        with TestCase.captureOnCommitCallbacks(execute=True):
            client.post("/admin/managed/fulfilmentqueueservice/", body)  # again: nothing more
    finally:
        service_fulfilment_started.disconnect(dispatch_uid="test-fulfilment-started")
    assert ManagedService.objects.get(pk=waiting.pk).fulfilment_started_at is not None
    assert seen == [waiting.pk]
    assert AuditEvent.objects.filter(action="managed.service.fulfilment_start").count() == 1


def test_no_delivery_form_for_a_family_an_automated_backend_builds(personas, shop, client):
    from apps.managed.backends import is_staff_fulfilled
    from apps.managed.choices import ServiceFamily

    assert not is_staff_fulfilled(ServiceFamily.LOAD_BALANCER)  # apps.loadbalancers registered its backend
    waiting = service_row(personas, shop, name="waits", active=False)
    lb = service_row(personas, shop, name="lb", active=False)
    ManagedService.objects.filter(pk=lb.pk).update(family=ServiceFamily.LOAD_BALANCER)
    client.force_login(personas.staff)
    assert client.get(f"/admin/managed/fulfilmentqueueservice/{waiting.pk}/deliver/").status_code == 200
    assert client.get(f"/admin/managed/fulfilmentqueueservice/{lb.pk}/deliver/").status_code == 404
