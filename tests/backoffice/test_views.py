"""The back office's pages as each staff role: landing queues, navigation, organisation, fleet, search."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.backoffice.rules import roles
from apps.core.models import AuditEvent
from apps.infrastructure.models import Node
from apps.teams.models import Organisation
from tests.backoffice.conftest import server_add

pytestmark = pytest.mark.django_db

SUPPORT, OPERATIONS, FINANCE, SUPERUSER = roles.SUPPORT, roles.OPERATIONS, roles.FINANCE, roles.SUPERUSER


def _queues(response) -> dict[str, int]:
    return {item["row"].queue.key: item["row"].count for item in response.context["queues"]}


# ---------------------------------------------------------------------------
# Landing page
# ---------------------------------------------------------------------------
def test_landing_page_counts_every_queue_for_a_superuser(desk, client):
    client.force_login(desk.staff[SUPERUSER])
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert _queues(response) == {
        "approvals": 1,
        "gpu_reviews": 1,
        "fulfilments": 1,
        "failed_orders": 1,
        "drift": 1,
        "sso_domains": 0,
        "overdue_invoices": 1,
        "dunning": 1,
        "nodes_unreachable": 0,
        "nodes_draining": 1,
    }
    oldest = {item["row"].queue.key: item["row"].oldest for item in response.context["queues"]}
    assert oldest["overdue_invoices"] == desk.invoice.due_at
    assert "oldest 2" in response.content.decode()  # "oldest 2 weeks, 2 days"


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (SUPPORT, {"approvals", "sso_domains", "overdue_invoices", "dunning"}, {"nodes_draining", "drift"}),
        (OPERATIONS, {"approvals", "fulfilments", "drift", "nodes_draining"}, {"overdue_invoices", "dunning"}),
        (FINANCE, {"overdue_invoices", "dunning", "failed_orders"}, {"nodes_draining", "sso_domains"}),
    ],
)
def test_each_role_sees_its_queues(desk, client, role, shown, hidden):
    client.force_login(desk.staff[role])
    keys = set(_queues(client.get(reverse("admin:index"))))
    assert shown <= keys
    assert not hidden & keys


def test_each_queue_links_to_a_changelist_listing_its_items(desk, client):
    client.force_login(desk.staff[SUPERUSER])
    items = {item["row"].queue.key: item["url"] for item in client.get(reverse("admin:index")).context["queues"]}
    for key, url in items.items():
        response = client.get(url)
        assert response.status_code == 200, (key, url)
        assert "?e=1" not in response.get("Location", ""), (key, url)  # the filter was accepted
    gpu = client.get(items["gpu_reviews"])
    assert gpu.context["cl"].result_count == 1
    assert client.get(items["failed_orders"]).context["cl"].result_count == 1
    assert client.get(items["overdue_invoices"]).context["cl"].result_count == 1
    assert client.get(items["nodes_draining"]).context["cl"].result_count == 1


def test_landing_page_query_count_does_not_grow_with_the_queues(desk, client):
    client.force_login(desk.staff[SUPERUSER])
    client.get(reverse("admin:index"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("admin:index"))
    for n in range(3, 15):
        server_add(desk.personas, desk.shop, n)
    Node.objects.update(maintenance=True)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("admin:index"))
    assert len(many) == len(few)


# ---------------------------------------------------------------------------
# Navigation
# ---------------------------------------------------------------------------
def test_navigation_is_grouped_by_job(desk, client):
    client.force_login(desk.staff[SUPERUSER])
    names = [str(app["name"]) for app in client.get(reverse("admin:index")).context["app_list"]]
    assert names[:7] == ["Customers", "Orders and services", "Fleet", "Billing", "Catalogue", "Security", "Payments"]
    assert len(names) == len(set(names))  # one "Accounts" section, not two


def test_payments_are_for_finance_and_superusers_only(desk, client):
    # Even a support member given a dj-stripe permission by hand does not see the Payments group.
    support = desk.staff[SUPPORT]
    support.user_permissions.add(Permission.objects.filter(content_type__app_label="djstripe").first())
    for role, sees in ((SUPPORT, False), (OPERATIONS, False), (FINANCE, True), (SUPERUSER, True)):
        client.force_login(desk.staff[role])
        names = [str(app["name"]) for app in client.get(reverse("admin:index")).context["app_list"]]
        assert ("Payments" in names) is sees, role
        status = client.get(reverse("admin:app_list", args=["djstripe"])).status_code
        assert (status == 200) is sees, (role, status)


def test_every_admin_page_has_the_search_box(desk, client):
    client.force_login(desk.staff[SUPPORT])
    for url in (reverse("admin:index"), reverse("admin:teams_organisation_changelist")):
        assert 'role="search"' in client.get(url).content.decode()


# ---------------------------------------------------------------------------
# Organisation page
# ---------------------------------------------------------------------------
def _org_url(desk) -> str:
    return reverse("admin:backoffice_organisation", args=[desk.org.pk])


def test_organisation_page_answers_a_support_call(desk, client):
    client.force_login(desk.staff[SUPPORT])
    page = client.get(_org_url(desk)).content.decode()
    for expected in (
        "owner@acme.test",  # members and roles
        "web-0",  # servers with their state
        "203.0.113.10",
        "failed-1",
        "VMC-2026-000123",  # invoices
        "Payment overdue",  # dunning state
        'id="bo-suspend"',  # support suspends
    ):
        assert expected in page, expected
    assert 'id="bo-credit"' not in page  # support grants no credit


def test_organisation_page_query_count_is_constant_in_resources(desk, client, django_assert_max_num_queries):
    client.force_login(desk.staff[SUPERUSER])
    with CaptureQueriesContext(connection) as few:
        client.get(_org_url(desk))
    for n in range(3, 40):
        server_add(desk.personas, desk.shop, n)
    with django_assert_max_num_queries(len(few)):
        response = client.get(_org_url(desk))
    assert "web-39" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "sees_billing", "forms"),
    [
        (SUPPORT, True, {"bo-suspend", "bo-note"}),
        (OPERATIONS, False, {"bo-note"}),
        (FINANCE, True, {"bo-credit", "bo-note"}),
        (SUPERUSER, True, {"bo-suspend", "bo-credit", "bo-note"}),
    ],
)
def test_organisation_page_per_role(desk, client, role, sees_billing, forms):
    client.force_login(desk.staff[role])
    page = client.get(_org_url(desk)).content.decode()
    assert ('id="bo-billing"' in page) is sees_billing
    for form in ("bo-suspend", "bo-credit", "bo-note"):
        assert (f'id="{form}"' in page) is (form in forms), form


def test_suspend_from_the_organisation_page_is_audited(desk, client):
    client.force_login(desk.staff[SUPPORT])
    response = client.post(_org_url(desk), {"action": "suspend", "reason": "Fraud check"})
    assert response.status_code == 302
    desk.org.refresh_from_db()
    assert desk.org.suspended_at is not None and desk.org.suspension_reason == "Fraud check"
    event = AuditEvent.objects.get(action="organisation.suspend")
    assert (event.actor_kind, event.actor_user_id) == ("staff", desk.staff[SUPPORT].pk)


def test_suspend_without_a_reason_is_a_form_error(desk, client):
    client.force_login(desk.staff[SUPPORT])
    response = client.post(_org_url(desk), {"action": "suspend", "reason": ""})
    assert response.status_code == 400
    assert response.context["forms"]["suspend"].errors["reason"]
    assert Organisation.objects.get(pk=desk.org.pk).suspended_at is None


def test_credit_from_the_organisation_page(desk, client):
    client.force_login(desk.staff[FINANCE])
    response = client.post(
        _org_url(desk), {"action": "credit", "kind": "promotional", "amount": "25.00", "description": "Outage"}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="billing.credit.grant")
    assert event.organisation_id == desk.org.pk and event.changes["amount"] == "25.00"
    assert "25.00" in client.get(_org_url(desk)).content.decode()


@pytest.mark.parametrize("amount", ["0", "-5", "abc", ""])
def test_bad_credit_is_a_form_error(desk, client, amount):
    client.force_login(desk.staff[FINANCE])
    response = client.post(
        _org_url(desk), {"action": "credit", "kind": "promotional", "amount": amount, "description": "x"}
    )
    assert response.status_code == 400
    assert response.context["forms"]["credit"].errors["amount"]
    assert not AuditEvent.objects.filter(action="billing.credit.grant").exists()


@pytest.mark.parametrize(("role", "action"), [(SUPPORT, "credit"), (FINANCE, "suspend"), (OPERATIONS, "suspend")])
def test_actions_outside_the_role_are_forbidden(desk, client, role, action):
    client.force_login(desk.staff[role])
    data = {"action": action, "reason": "x", "kind": "promotional", "amount": "5", "description": "x"}
    assert client.post(_org_url(desk), data).status_code == 403
    assert not AuditEvent.objects.filter(action__in=["organisation.suspend", "billing.credit.grant"]).exists()


def test_note_from_the_organisation_page_is_audited(desk, client):
    client.force_login(desk.staff[OPERATIONS])
    assert client.post(_org_url(desk), {"action": "note", "body": "Node pve001 swap on Friday."}).status_code == 302
    assert AuditEvent.objects.filter(action="backoffice.note.create", actor_kind="staff").count() == 1
    assert "Node pve001 swap on Friday." in client.get(_org_url(desk)).content.decode()


def test_unknown_action_and_unknown_organisation(desk, client):
    client.force_login(desk.staff[SUPERUSER])
    assert client.post(_org_url(desk), {"action": "delete_everything"}).status_code == 400
    assert client.get(reverse("admin:backoffice_organisation", args=[999999])).status_code == 404


def test_customers_cannot_reach_the_back_office(desk, client):
    client.force_login(desk.personas.owner)
    response = client.get(_org_url(desk))
    assert response.status_code == 302 and "/login/" in response["Location"]


# ---------------------------------------------------------------------------
# Fleet pages
# ---------------------------------------------------------------------------
def test_fleet_pages_show_capacity_gpus_and_tenants(desk, client):
    client.force_login(desk.staff[OPERATIONS])
    fleet = client.get(reverse("admin:backoffice_fleet"))
    assert fleet.status_code == 200 and "PAR-1" in fleet.content.decode()
    dc = client.get(reverse("admin:backoffice_datacentre", args=["PAR-1"])).content.decode()
    assert desk.shop.fleet["cluster"].name in dc
    cluster = client.get(reverse("admin:backoffice_cluster", args=[desk.shop.fleet["cluster"].pk]))
    caps = {cap.node.pk: cap for cap in cluster.context["view"].nodes}
    assert caps[desk.drained.pk].node.maintenance and caps[desk.drained.pk].gpus_total == 2
    node = client.get(reverse("admin:backoffice_node", args=[desk.shop.fleet["nodes"][0].pk])).content.decode()
    assert "web-0" in node and "gpu-box" in node
    gpus = {
        gpu.pci_address: tenant
        for gpu, tenant in client.get(reverse("admin:backoffice_node", args=[desk.shop.fleet["nodes"][0].pk])).context[
            "gpus"
        ]
    }
    assert gpus == {"0000:21:00.0": desk.org, "0000:41:00.0": None}  # the GPU's state and its tenant


def test_drain_and_undrain_a_node_as_operations(desk, client):
    node = desk.shop.fleet["nodes"][0]
    url = reverse("admin:backoffice_node", args=[node.pk])
    client.force_login(desk.staff[OPERATIONS])
    assert client.post(url, {"action": "drain", "reason": "BIOS update"}).status_code == 302
    node.refresh_from_db()
    assert node.maintenance and node.maintenance_reason == "BIOS update"
    assert client.post(url, {"action": "undrain"}).status_code == 302
    node.refresh_from_db()
    assert not node.maintenance
    actions = list(
        AuditEvent.objects.filter(action__startswith="infrastructure.node.").values_list("action", flat=True)
    )
    assert sorted(actions) == ["infrastructure.node.drain", "infrastructure.node.undrain"]


@pytest.mark.parametrize(("role", "get", "post"), [(SUPPORT, 403, 403), (FINANCE, 403, 403), (OPERATIONS, 200, 302)])
def test_fleet_access_per_role(desk, client, role, get, post):
    url = reverse("admin:backoffice_node", args=[desk.shop.fleet["nodes"][0].pk])
    client.force_login(desk.staff[role])
    assert client.get(reverse("admin:backoffice_fleet")).status_code == get
    assert client.post(url, {"action": "drain", "reason": "x"}).status_code == post


def test_unknown_fleet_objects_are_404(desk, client):
    client.force_login(desk.staff[OPERATIONS])
    assert client.get(reverse("admin:backoffice_datacentre", args=["NOPE-9"])).status_code == 404
    assert client.get(reverse("admin:backoffice_cluster", args=[999999])).status_code == 404
    assert client.get(reverse("admin:backoffice_node", args=[999999])).status_code == 404


# ---------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------
def _hits(client, q: str) -> list[tuple[str, str]]:
    response = client.get(reverse("admin:backoffice_search"), {"q": q})
    assert response.status_code == 200
    return [(str(row["hit"].kind), row["hit"].label) for row in response.context["rows"]]


def test_search_finds_by_email_ip_vmid_order_id_and_invoice_number(desk, client):
    client.force_login(desk.staff[SUPERUSER])
    assert ("User", "owner@acme.test") in _hits(client, "owner@acme.test")
    assert ("Organisation", "Acme") in _hits(client, "owner@acme.test")
    assert _hits(client, "203.0.113.11") == [("Server", "web-1")]
    assert _hits(client, "1002") == [("Server", "web-2")]
    order_id = str(desk.gpu_order.public_id)
    assert _hits(client, order_id) == [("Order", order_id)]
    assert ("Order", order_id) in _hits(client, order_id[:8])
    assert _hits(client, "VMC-2026-000123") == [("Invoice", "VMC-2026-000123")]
    assert _hits(client, "nothing-like-this") == []


def test_search_only_shows_what_the_role_may_view(desk, client):
    client.force_login(desk.staff[OPERATIONS])
    assert _hits(client, "VMC-2026-000123") == []  # operations reads no invoices
    client.force_login(desk.staff[SUPPORT])
    assert _hits(client, "VMC-2026-000123") == [("Invoice", "VMC-2026-000123")]


def test_search_with_a_too_long_query_is_not_an_error(desk, client):
    client.force_login(desk.staff[SUPPORT])
    response = client.get(reverse("admin:backoffice_search"), {"q": "x" * 5000})
    assert response.status_code == 200


def test_organisation_page_answers_even_when_billing_cannot_rate_the_month(desk, client):
    from apps.billing.models import VatRate

    VatRate.objects.all().delete()
    client.force_login(desk.staff[SUPPORT])
    response = client.get(_org_url(desk))
    assert response.status_code == 200
    assert "No VAT rate is configured" in response.content.decode()
    assert "web-0" in response.content.decode()


def test_the_staff_docs_page_shows_its_screenshots(desk, client):
    from pathlib import Path

    from django.conf import settings

    assert client.get("/docs/back-office/").status_code == 404  # staff only
    client.force_login(desk.staff[SUPPORT])
    page = client.get("/docs/back-office/").content.decode()
    images = re.findall(r'<img[^>]* src="/static/(docs/back-office/[a-z-]+\.png)"', page)
    assert {"docs/back-office/landing-light.png", "docs/back-office/landing-dark.png"} <= set(images)
    for image in images:
        assert (Path(settings.BASE_DIR) / "static" / image).is_file(), image


def test_stock_edit_forms_link_to_the_back_office_pages(desk, client):
    client.force_login(desk.staff[SUPERUSER])
    org_form = client.get(reverse("admin:teams_organisation_change", args=[desk.org.pk])).content.decode()
    assert reverse("admin:backoffice_organisation", args=[desk.org.pk]) in org_form
    node = desk.shop.fleet["nodes"][0]
    node_form = client.get(reverse("admin:infrastructure_node_change", args=[node.pk])).content.decode()
    assert reverse("admin:backoffice_node", args=[node.pk]) in node_form
    cluster = desk.shop.fleet["cluster"]
    cluster_form = client.get(reverse("admin:infrastructure_cluster_change", args=[cluster.pk])).content.decode()
    assert reverse("admin:backoffice_cluster", args=[cluster.pk]) in cluster_form


def test_cluster_page_query_count_is_constant_in_nodes(desk, client, django_assert_max_num_queries):
    from tests.infrastructure.factories import NodeFactory

    cluster = desk.shop.fleet["cluster"]
    url = reverse("admin:backoffice_cluster", args=[cluster.pk])
    client.force_login(desk.staff[OPERATIONS])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(10):
        NodeFactory(cluster=cluster, datacentre=cluster.datacentre)
    with django_assert_max_num_queries(len(few)):
        assert client.get(url).status_code == 200
