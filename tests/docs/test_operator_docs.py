"""Operator docs are apart from customer docs: only staff see them (issue 11, item 12)."""

from __future__ import annotations

import re

import pytest

from apps.docs import selectors

pytestmark = pytest.mark.django_db

OPERATOR_PAGES = [
    "adding-a-cluster",
    "console-proxy",
    "proxmox-simulator",
    "reconciliation",
    # Production operations (issue 17).
    "production",
    "runbook-upgrade",
    "runbook-rotate-secrets",
    "runbook-capacity",
    "runbook-restore",
    "runbook-incident",
    # Managed services' backends (issue 14).
    "service-backends",
]


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(email="ops@vmcloud.test", is_staff=True)


@pytest.fixture
def customer(django_user_model):
    return django_user_model.objects.create_user(email="customer@acme.test")


def test_the_operator_pages_are_staff_only():
    staff_only = {p.slug for p in selectors.page_list(staff=True) if p.is_staff_only}
    assert set(OPERATOR_PAGES) <= staff_only  # and the runbooks
    assert {p.section for p in selectors.page_list(staff=True) if p.is_staff_only} == {"Staff operations"}


@pytest.mark.parametrize("slug", OPERATOR_PAGES)
def test_anonymous_and_customers_get_404_for_operator_pages(client, customer, slug):
    assert client.get(f"/docs/{slug}/").status_code == 404
    client.force_login(customer)
    assert client.get(f"/docs/{slug}/").status_code == 404


@pytest.mark.parametrize("slug", OPERATOR_PAGES)
def test_staff_read_operator_pages(client, staff, slug):
    client.force_login(staff)
    response = client.get(f"/docs/{slug}/")
    assert response.status_code == 200
    assert "Staff operations" in response.content.decode()


def test_operator_pages_are_neither_listed_nor_searched_for_customers(client, customer, staff):
    client.force_login(customer)
    html = client.get("/docs/").content.decode()
    assert "Staff operations" not in html
    assert not any(f'href="/docs/{slug}/"' in html for slug in OPERATOR_PAGES)
    results = client.get("/docs/search/", {"q": "reconcile drift"}).content.decode()
    assert 'href="/docs/reconciliation/' not in results
    client.force_login(staff)
    html = client.get("/docs/").content.decode()
    assert all(f'href="/docs/{slug}/"' in html for slug in OPERATOR_PAGES)
    assert 'href="/docs/reconciliation/' in client.get("/docs/search/", {"q": "reconcile drift"}).content.decode()


def test_customer_pages_do_not_link_to_operator_pages():
    for source in selectors.page_list():
        for target in re.findall(r"\]\(/docs/([a-z0-9-]+)/", source.body):
            assert target not in OPERATOR_PAGES, f"{source.slug}.md links to the operator page {target}"
