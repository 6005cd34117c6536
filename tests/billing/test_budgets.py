"""Budgets: validation, threshold alerts (e-mail, notice, signed webhook) sent once, actions at 100 %, faces."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from rest_framework.test import APIClient

from apps.billing.models import BillingNotice, Budget, BudgetAlert
from apps.billing.services import budgets
from apps.core.errors import PermissionDenied, ValidationFailed
from apps.core.models import AuditEvent
from apps.instances.models import Action
from apps.orders.models import OrderBlock
from tests.billing.fixtures_costs import (  # noqa: F401
    JAN_1,
    NOW,
    costs_world,
    instance_row,
    usage,
    webhook_receiver,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def spend(costs_world):  # noqa: F811
    """17.30 € month-to-date in January 2026 (NOW): one running server, 346 hours at 0.05 €/h."""
    w = costs_world
    web = instance_row(organisation=w.org, project=w.project, name="web-1", price_monthly="1000.00")
    usage(
        organisation=w.org, project=w.project, resource_id=web.public_id, name="web-1", start=JAN_1, hours=346,
        unit_price="0.05", cap="1000.00",
    )  # fmt: skip
    return web


def _budget(w, **kwargs) -> Budget:
    values = {"name": "Monthly", "amount": "20.00"} | kwargs
    budget, _secret = budgets.budget_create(organisation=w.org, actor=w.owner, **values)
    return budget


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, expected",
    [
        (None, [50, 80, 100]),
        ([], [50, 80, 100]),
        ([25, 100, 150], [25, 100, 150]),
        ("50, 90", [50, 90]),
        ([1000], [1000]),
    ],
)
def test_thresholds_accepted(value, expected):
    assert budgets.thresholds_clean(value) == expected


@pytest.mark.parametrize("value", [[0], [1001], [80, 50], [50, 50], ["x"], [True], [1.5], list(range(1, 13)), "5,a"])
def test_thresholds_refused(value):
    with pytest.raises(ValidationFailed) as exc:
        budgets.thresholds_clean(value)
    assert "thresholds" in exc.value.fields


def test_webhook_url_rules(settings):
    settings.BILLING_BUDGET_WEBHOOK_ALLOW_LOOPBACK = False
    assert budgets.webhook_url_error("https://hooks.example.com/x") is None
    for bad in (
        "http://hooks.example.com/x",
        "http://127.0.0.1:8000/x",
        "https://10.0.0.5/x",
        "https://169.254.169.254/latest",
        "https://user:pw@hooks.example.com/",
        "ftp://hooks.example.com/",
        "https://",
    ):
        assert budgets.webhook_url_error(bad), bad
    settings.BILLING_BUDGET_WEBHOOK_ALLOW_LOOPBACK = True
    assert budgets.webhook_url_error("http://127.0.0.1:8000/x") is None
    assert budgets.webhook_url_error("http://localhost/x") is None
    assert budgets.webhook_url_error("http://hooks.example.com/x")


def test_create_validates_and_audits(costs_world):  # noqa: F811
    w = costs_world
    with pytest.raises(ValidationFailed) as exc:
        budgets.budget_create(
            organisation=w.org, actor=w.owner, name="", amount="-1", webhook_url="http://example.com",
            notify_emails=["nope"],
        )  # fmt: skip
    assert set(exc.value.fields) == {"name", "amount", "webhook_url", "notify_emails"}
    with pytest.raises(ValidationFailed) as exc:
        budgets.budget_create(
            organisation=w.org, actor=w.owner, name="x", amount="5", thresholds=[50], action="stop_gpus"
        )
    assert "thresholds" in exc.value.fields
    foreign = w.other_org.projects.first()
    with pytest.raises(ValidationFailed):
        budgets.budget_create(organisation=w.org, actor=w.owner, name="x", amount="5", project=foreign)
    budget, secret = budgets.budget_create(organisation=w.org, actor=w.owner, name="Main", amount="100")
    assert secret.startswith("vmcwh_") and budget.webhook_secret == secret
    assert budget.thresholds == [50, 80, 100]
    assert AuditEvent.objects.filter(action="billing.budget.create", organisation_id=w.org.pk).exists()


# ---------------------------------------------------------------------------
# Evaluation and alerts
# ---------------------------------------------------------------------------
def test_thresholds_alert_once_by_email_notice_and_signed_webhook(
    costs_world,  # noqa: F811
    spend,
    webhook_receiver,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    w = costs_world
    budget, secret = budgets.budget_create(
        organisation=w.org, actor=w.owner, name="Monthly", amount="20.00", webhook_url=webhook_receiver.url
    )
    with django_capture_on_commit_callbacks(execute=True):
        created = budgets.budget_evaluate(budget=budget, now=NOW)
    # 17.30 of 20.00 = 86.5 %: 50 and 80 crossed, not 100.
    assert sorted(a.threshold for a in created) == [50, 80]
    assert len(mail.outbox) == 2
    assert set(mail.outbox[0].to) == {"accounts@costs.test", "billing@costs.test"}
    assert "80 %" in mail.outbox[1].subject or "80 %" in mail.outbox[0].subject
    assert BillingNotice.objects.filter(organisation=w.org, kind="budget").count() == 2
    assert len(webhook_receiver.requests) == 2
    for request in webhook_receiver.requests:
        header = request["headers"]["X-VMCloud-Signature"]
        parts = dict(item.split("=", 1) for item in header.split(","))
        expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + request["body"], hashlib.sha256).hexdigest()
        assert hmac.compare_digest(parts["v1"], expected)
        assert budgets.webhook_signature_verify(secret=secret, body=request["body"], header=header)
        payload = json.loads(request["body"])
        assert payload["event"] == "budget.threshold_crossed"
        assert payload["budget"]["id"] == str(budget.public_id)
        assert payload["month"] == "2026-01" and payload["spend"] == "17.30"
    assert not budgets.webhook_signature_verify(secret="wrong", body=request["body"], header=header)
    alerts = BudgetAlert.objects.filter(budget=budget)
    assert all(a.webhook_status == "HTTP 200" and a.webhook_sent_at and a.emailed_at for a in alerts)
    # Evaluating again sends nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        assert budgets.budget_evaluate(budget=budget, now=NOW) == []
    assert (len(mail.outbox), len(webhook_receiver.requests), alerts.count()) == (2, 2, 2)
    # The next month starts from zero: nothing crossed yet.
    with django_capture_on_commit_callbacks(execute=True):
        assert budgets.budget_evaluate(budget=budget, now=NOW + timedelta(days=31)) == []


def test_forecast_basis_alerts_earlier(costs_world, spend, django_capture_on_commit_callbacks):  # noqa: F811
    w = costs_world
    budget = _budget(w, amount="30.00", basis="forecast", notify_emails=["cfo@costs.test"])
    with django_capture_on_commit_callbacks(execute=True):
        created = budgets.budget_evaluate(budget=budget, now=NOW)
    # forecast = 744 h × 0.05 = 37.20 ≥ 100 % of 30
    assert sorted(a.threshold for a in created) == [50, 80, 100]
    assert mail.outbox[0].to == ["cfo@costs.test"]


def test_webhook_retries_on_5xx_then_succeeds(costs_world, spend, webhook_receiver, django_capture_on_commit_callbacks):  # noqa: F811
    w = costs_world
    webhook_receiver.statuses = [503]
    budget = _budget(w, thresholds=[80], webhook_url=webhook_receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        budgets.budget_evaluate(budget=budget, now=NOW)
    assert len(webhook_receiver.requests) == 2
    alert = BudgetAlert.objects.get(budget=budget)
    assert alert.webhook_status == "HTTP 200" and alert.webhook_sent_at is not None


def test_webhook_4xx_is_not_retried(costs_world, spend, webhook_receiver, django_capture_on_commit_callbacks):  # noqa: F811
    webhook_receiver.statuses = [410]
    budget = _budget(costs_world, thresholds=[80], webhook_url=webhook_receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        budgets.budget_evaluate(budget=budget, now=NOW)
    assert len(webhook_receiver.requests) == 1
    alert = BudgetAlert.objects.get(budget=budget)
    assert alert.webhook_status == "HTTP 410" and alert.webhook_sent_at is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_alert_once(costs_world, spend):  # noqa: F811
    budget = _budget(costs_world)
    barrier = threading.Barrier(4)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(len(budgets.budget_evaluate(budget=Budget.objects.get(pk=budget.pk), now=NOW)))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(results) == 2
    assert BudgetAlert.objects.filter(budget=budget).count() == 2
    assert len(mail.outbox) == 2
    assert BillingNotice.objects.filter(organisation=costs_world.org).count() == 2


# ---------------------------------------------------------------------------
# Actions at 100 %
# ---------------------------------------------------------------------------
def _place_service_order(w):
    from apps.catalogue import choices as catalogue_choices
    from apps.orders.services import order_place
    from tests.infrastructure.factories import DatacentreFactory, FamilyFactory, OfferFactory

    dc = DatacentreFactory(code="PAR-1")
    family = FamilyFactory(slug="svc", name="Service", kind=catalogue_choices.FamilyKind.MANAGED_SERVICE)
    offer = OfferFactory(family=family, code=f"SVC-{uuid.uuid4().hex[:6]}", vcpu=None, ram_gb=None, disk_gb=None)
    offer.datacentres.add(dc)
    return order_place(
        actor=w.owner, organisation=w.org, project=w.project, offer=offer, datacentre=dc, image=None, name="site"
    )


def test_block_orders_at_100_and_lifting(costs_world, spend, django_capture_on_commit_callbacks):  # noqa: F811
    w = costs_world
    budget = _budget(w, amount="10.00", action="block_orders")
    with django_capture_on_commit_callbacks(execute=True):
        budgets.budget_evaluate(budget=budget, now=NOW)
    assert OrderBlock.objects.filter(organisation=w.org, source=f"budget:{budget.public_id}").exists()
    with pytest.raises(PermissionDenied) as exc:
        _place_service_order(w)
    assert exc.value.code == "orders_blocked"
    assert AuditEvent.objects.filter(action="billing.budget.block_orders").count() == 1
    # Evaluating again keeps one block, audits nothing new.
    budgets.budget_evaluate(budget=budget, now=NOW)
    assert AuditEvent.objects.filter(action="billing.budget.block_orders").count() == 1
    # Raising the budget lifts it at once; orders work again.
    budgets.budget_update(budget=budget, actor=w.owner, amount=Decimal("100.00"))
    assert not OrderBlock.objects.filter(organisation=w.org).exists()
    _place_service_order(w)
    # Back under water, then a new month: lifted by the evaluation.
    budget = budgets.budget_update(budget=budget, actor=w.owner, amount=Decimal("10.00"))
    budgets.budget_evaluate(budget=budget, now=NOW)
    assert OrderBlock.objects.filter(organisation=w.org).exists()
    budgets.budget_evaluate(budget=budget, now=NOW + timedelta(days=31))
    assert not OrderBlock.objects.filter(organisation=w.org).exists()
    # Disabled or deleted budgets lift their block too.
    budgets.budget_evaluate(budget=budget, now=NOW)
    budgets.budget_update(budget=budget, actor=w.owner, is_active=False)
    assert not OrderBlock.objects.filter(organisation=w.org).exists()
    budget = budgets.budget_update(budget=budget, actor=w.owner, is_active=True)
    budgets.budget_evaluate(budget=budget, now=NOW)
    budgets.budget_delete(budget=budget, actor=w.owner)
    assert not OrderBlock.objects.filter(organisation=w.org).exists()
    assert AuditEvent.objects.filter(action="billing.budget.unblock_orders").count() >= 3


def test_stop_gpus_at_100_stops_running_gpu_servers_once(costs_world, spend, django_capture_on_commit_callbacks):  # noqa: F811
    w = costs_world
    gpu = instance_row(organisation=w.org, project=w.project, name="gpu-1", gpu=True, price_monthly="900.00")
    vps = spend
    budget = _budget(w, amount="10.00", action="stop_gpus")
    with django_capture_on_commit_callbacks(execute=False):
        budgets.budget_evaluate(budget=budget, now=NOW)
    assert list(Action.objects.filter(instance=gpu).values_list("type", flat=True)) == ["stop"]
    assert not Action.objects.filter(instance=vps).exists()
    event = AuditEvent.objects.get(action="billing.budget.stop_gpus")
    assert event.changes["instances"] == [str(gpu.public_id)]
    assert BillingNotice.objects.filter(organisation=w.org, message__contains="GPU").exists()
    # Once a month: evaluating again stops nothing more.
    with django_capture_on_commit_callbacks(execute=False):
        budgets.budget_evaluate(budget=budget, now=NOW)
    assert Action.objects.filter(instance=gpu).count() == 1


def test_beat_task_evaluates_active_budgets(costs_world, spend):  # noqa: F811
    from apps.billing.tasks.budgets import budgets_evaluate

    budget = _budget(costs_world, amount="0.01", thresholds=[100], basis="forecast")
    _budget(costs_world, name="Off", amount="0.01", thresholds=[100], basis="forecast", is_active=False)
    assert budgets_evaluate.apply().get() == 1  # this month's forecast (the open period is billed now)
    assert BudgetAlert.objects.filter(budget=budget).count() == 1


# ---------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------
def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_budget_crud(costs_world, settings):  # noqa: F811
    w = costs_world
    client = _client(w.billing)
    response = client.post(
        "/api/v1/billing/budgets/",
        {"name": "Cloud", "amount": "500.00", "basis": "forecast", "action": "block_orders",
         "webhook_url": "https://hooks.example.com/vmcloud", "project": w.project.pk},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["webhook_secret"].startswith("vmcwh_")
    assert body["project"] == {"id": w.project.pk, "name": w.project.name}
    budget_id = body["id"]
    listed = client.get("/api/v1/billing/budgets/").json()
    assert [b["id"] for b in listed["results"]] == [budget_id]
    assert "webhook_secret" not in listed["results"][0]
    response = client.patch(f"/api/v1/billing/budgets/{budget_id}/", {"amount": "800"}, format="json")
    assert response.status_code == 200 and response.json()["amount"] == "800.00"
    response = client.patch(f"/api/v1/billing/budgets/{budget_id}/", {"thresholds": [90, 10]}, format="json")
    assert response.status_code == 400 and "thresholds" in response.json()["error"]["fields"]
    assert client.get(f"/api/v1/billing/budgets/{budget_id}/alerts/").json()["results"] == []
    assert client.delete(f"/api/v1/billing/budgets/{budget_id}/").status_code == 204
    assert not Budget.objects.exists()


def test_api_budget_permissions(costs_world):  # noqa: F811
    w = costs_world
    budget = _budget(w)
    url = f"/api/v1/billing/budgets/{budget.public_id}/"
    assert _client(w.member).get("/api/v1/billing/budgets/").status_code == 403
    assert _client(w.member).get(url).status_code == 403
    assert _client(w.viewer).get(url).status_code == 403
    assert _client(w.admin).get(url).status_code == 200  # billing.read without billing.manage
    assert _client(w.admin).patch(url, {"amount": "1"}, format="json").status_code == 403
    assert _client(w.admin).delete(url).status_code == 403
    assert (
        _client(w.admin).post("/api/v1/billing/budgets/", {"name": "x", "amount": "1"}, format="json").status_code
        == 403
    )
    assert _client(w.outsider).get(url).status_code == 404
    assert _client(w.outsider).delete(url).status_code == 404
    response = _client(w.outsider).post(
        "/api/v1/billing/budgets/", {"organisation": w.org.pk, "name": "x", "amount": "1"}, format="json"
    )
    assert response.status_code == 404
    assert Budget.objects.count() == 1


def test_api_notices_list_and_mark_read(costs_world):  # noqa: F811
    from apps.billing.services import notice_post

    w = costs_world
    first = notice_post(organisation=w.org, kind="budget", message="one")
    notice_post(organisation=w.org, kind="budget", message="two")
    client = _client(w.billing)
    assert client.get("/api/v1/billing/notices/?unread=true").json()["count"] == 2
    response = client.post("/api/v1/billing/notices/read/", {"ids": [first.pk]}, format="json")
    assert response.json() == {"marked_read": 1}
    assert client.get("/api/v1/billing/notices/?unread=true").json()["count"] == 1
    assert client.post("/api/v1/billing/notices/read/", {}, format="json").json() == {"marked_read": 1}
    assert _client(w.admin).post("/api/v1/billing/notices/read/", {}, format="json").status_code == 403
    assert _client(w.member).get("/api/v1/billing/notices/").status_code == 403


# ---------------------------------------------------------------------------
# Portal
# ---------------------------------------------------------------------------
def test_portal_budget_create_edit_delete(client, costs_world):  # noqa: F811
    w = costs_world
    client.force_login(w.billing)
    form = {
        "name": "Team", "project": "", "amount": "250", "thresholds": "50, 100", "basis": "actual",
        "action": "block_orders", "notify_emails": "a@costs.test, b@costs.test", "webhook_url": "", "is_active": "on",
    }  # fmt: skip
    response = client.post("/billing/budgets/new/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    budget = Budget.objects.get(name="Team")
    assert budget.thresholds == [50, 100] and budget.notify_emails == ["a@costs.test", "b@costs.test"]
    listing = client.get("/billing/budgets/").content.decode()
    assert 'id="budget-secret"' in listing and budget.webhook_secret in listing
    assert budget.webhook_secret not in client.get("/billing/budgets/").content.decode()  # shown once
    bad = client.post("/billing/budgets/new/", form | {"thresholds": "100, 50", "webhook_url": "http://x.example"})
    assert bad.status_code == 200
    assert "ascending" in bad.content.decode() and "https" in bad.content.decode()
    response = client.post(f"/billing/budgets/{budget.public_id}/edit/", form | {"amount": "300"})
    assert response.status_code == 302
    budget.refresh_from_db()
    assert budget.amount == Decimal("300")
    assert client.get(f"/billing/budgets/{budget.public_id}/alerts/").status_code == 200
    assert client.post(f"/billing/budgets/{budget.public_id}/delete/").status_code == 302
    assert not Budget.objects.exists()


def test_portal_admin_reads_but_cannot_create(client, costs_world):  # noqa: F811
    client.force_login(costs_world.admin)
    assert client.get("/billing/budgets/").status_code == 200
    assert client.get("/billing/budgets/new/").status_code == 403


def test_api_notice_ids_and_list_parameters_are_bounded(costs_world):  # noqa: F811
    from apps.billing.services import notice_post

    w = costs_world
    notice_post(organisation=w.org, kind="budget", message="one")
    client = _client(w.billing)
    response = client.post("/api/v1/billing/notices/read/", {"ids": [99999999999999999999]}, format="json")
    assert response.status_code == 400, response.content
    assert "ids.0" in response.json()["error"]["fields"]
    assert client.post("/api/v1/billing/notices/read/", {"ids": [0]}, format="json").status_code == 400
    assert BillingNotice.objects.filter(read_at__isnull=True).count() == 1
    assert client.get("/api/v1/billing/notices/?unread=maybe").status_code == 400
    assert client.get("/api/v1/billing/notices/?unred=true").status_code == 400
    assert client.get("/api/v1/billing/notices/?sort=created_at:asc").status_code == 200
    assert client.get("/api/v1/billing/budgets/?is_active=true&sort=name").status_code == 200
    assert client.get("/api/v1/billing/budgets/?project=99999999999999999999").status_code == 400
    assert client.get("/api/v1/billing/invoices/?status=open&sort=issued_at:desc").status_code == 200
    assert client.get("/api/v1/billing/invoices/?state=open").status_code == 400
    assert client.get("/api/v1/billing/credits/?kind=prepaid").status_code == 200
    assert client.get("/api/v1/billing/credit-notes/?number=1").status_code == 400
    assert client.get("/api/v1/billing/costs/?project=99999999999999999999").status_code == 400
