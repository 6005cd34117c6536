"""The dashboard of issue 16: the first-run checklist ticks itself from data, every resource is counted with a
link, the monthly cap includes managed services, spend shows against budgets, notices, and the page's query
count does not grow with the number of resources."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from apps.billing import services as billing_services
from apps.billing.models import VatRate
from apps.instances import services as instance_services
from apps.instances.models import Instance
from apps.portal.selectors import dashboard_overview, onboarding_checklist
from apps.teams import services as team_services
from apps.teams.choices import Role
from tests.orders.conftest import place

pytestmark = pytest.mark.django_db

ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop"


@pytest.fixture(autouse=True)
def vat_rate(db):
    """Estonia's rate: an organisation without a country is taxed as a domestic supply (apps/billing/rules/vat.py)."""
    VatRate.objects.get_or_create(country="EE", defaults={"rate": Decimal("22.00")})


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def servers(personas, shop, n: int, *, org=None, status: str = "running", prefix: str = "srv") -> list[Instance]:
    org = org or personas.org
    project = personas.project if org == personas.org else personas.other_project
    return Instance.objects.bulk_create(
        Instance(
            organisation=org,
            project=project,
            name=f"{prefix}-{i}",
            offer=shop.vps,
            datacentre=shop.dc,
            image=shop.image,
            status=status,
            price_hourly=Decimal("0.0137"),
            price_monthly=Decimal("9.99"),
        )
        for i in range(n)
    )


def steps(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-step="([a-z_]+)" data-done="(true|false)"', html))


def test_a_new_organisation_sees_every_first_step_to_do_with_a_link(personas):
    html = client_for(personas.owner).get("/dashboard/").content.decode()
    assert 'id="onboarding-checklist"' in html
    assert steps(html) == {
        "billing_identity": "false",
        "ssh_key": "false",
        "first_server": "false",
        "teammate": "true",  # Acme has five members already
        "two_factor": "false",
    }
    for href in ("/org/settings/", "/ssh-keys/", "/orders/new/", "/org/members/", "/accounts/2fa/"):
        assert f'href="{href}' in html


def test_the_checklist_ticks_itself_from_data_and_disappears_when_all_is_done(personas, shop):
    from allauth.mfa.models import Authenticator

    lone = personas.outsider
    org = personas.other_org
    before = {item.key: item.done for item in onboarding_checklist(actor=lone, organisation=org)}
    assert before == dict.fromkeys(before, False)

    org.country, org.legal_name = "FR", "Globex SAS"
    org.save()
    instance_services.ssh_key_create(organisation=org, name="laptop", public_key=ED25519, actor=lone)
    team_services.invitation_create(organisation=org, email="new@globex.test", role=Role.MEMBER, actor=lone)
    servers(personas, shop, 1, org=org, status="deleted")  # deleted since: still a first server
    Authenticator.objects.create(user=lone, type=Authenticator.Type.TOTP, data={"secret": "x"})

    after = {item.key: item.done for item in onboarding_checklist(actor=lone, organisation=org)}
    assert after == dict.fromkeys(after, True)
    html = client_for(lone).get("/dashboard/").content.decode()
    assert 'id="onboarding-checklist"' not in html


def test_a_business_needs_its_legal_name_a_personal_account_only_its_country(personas):
    org = personas.other_org
    org.country = "DE"
    org.save()
    done = {i.key: i.done for i in onboarding_checklist(actor=personas.outsider, organisation=org)}
    assert done["billing_identity"] is False
    org.is_personal = True
    org.save()
    done = {i.key: i.done for i in onboarding_checklist(actor=personas.outsider, organisation=org)}
    assert done["billing_identity"] is True


def test_every_kind_of_resource_is_counted_with_a_link(personas, shop):
    servers(personas, shop, 3)
    servers(personas, shop, 1, status="stopped", prefix="off")
    servers(personas, shop, 4, org=personas.other_org, prefix="globex")  # not Acme's
    place(personas, shop, offer=shop.service, name="shop-hosting")
    html = client_for(personas.member).get("/dashboard/").content.decode()
    cards = re.findall(r'href="(/[^"]+)" data-resource="([a-z_]+)"', html)
    assert {key for _href, key in cards} >= {
        "servers",
        "volumes",
        "networks",
        "firewalls",
        "floating_ips",
        "services",
        "load_balancers",
        "alert_policies",
    }
    counts = dict(
        re.findall(r'data-resource="([a-z_]+)">.*?<span class="stat-value" data-count>(\d+)</span>', html, re.S)
    )
    assert counts["servers"] == "4" and counts["services"] == "1" and counts["volumes"] == "0"


def test_the_monthly_cap_includes_managed_services(personas, shop):
    servers(personas, shop, 2)  # 2 x 9.99
    order = place(personas, shop, offer=shop.service, name="shop-hosting")  # 4.99
    assert order.service is not None
    overview = dashboard_overview(actor=personas.member, organisation=personas.org)
    assert overview.services_cap == Decimal("4.99")
    assert overview.monthly_cap == Decimal("24.97")
    html = client_for(personas.member).get("/dashboard/").content.decode()
    assert re.search(r'id="stat-monthly-cap">[^<]*24[.,]97', html)


def test_in_progress_and_notices_count_orders_waiting_for_approval(personas, shop, settings):
    settings.ORDERS_APPROVAL_GPU = True
    place(personas, shop, offer=shop.gpu, name="needs-approval")
    overview = dashboard_overview(actor=personas.member, organisation=personas.org)
    assert overview.approvals_waiting == overview.orders_moving == 1
    html = client_for(personas.member).get("/dashboard/").content.decode()
    assert 'data-notice="approvals"' in html


def test_spend_shows_against_budgets_for_billing_readers_only(personas, shop):
    billing_services.budget_create(organisation=personas.org, actor=personas.owner, name="Monthly", amount="100")
    html = client_for(personas.billing).get("/dashboard/").content.decode()
    assert 'id="dashboard-spend"' in html and 'data-budget="Monthly"' in html
    servers(personas, shop, 1)
    html = client_for(personas.member).get("/dashboard/").content.decode()
    assert 'id="dashboard-spend"' not in html


def test_spend_unavailable_is_said_without_failing_the_page(personas):
    VatRate.objects.all().delete()
    response = client_for(personas.owner).get("/dashboard/")
    assert response.status_code == 200 and 'id="spend-unavailable"' in response.content.decode()


def test_another_organisations_resources_are_not_counted(personas, shop):
    servers(personas, shop, 5, org=personas.other_org)
    overview = dashboard_overview(actor=personas.member, organisation=personas.org)
    assert overview.servers.total == 0 and overview.monthly_cap == 0


def test_the_dashboard_query_count_does_not_grow_with_resources(personas, shop, django_assert_max_num_queries):
    client = client_for(personas.owner)
    servers(personas, shop, 2)
    place(personas, shop, offer=shop.service, name="svc-0")
    billing_services.budget_create(organisation=personas.org, actor=personas.owner, name="Cap", amount="50")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/dashboard/")  # warm caches (content types, templates)
    with CaptureQueriesContext(connection) as few:
        client.get("/dashboard/")
    servers(personas, shop, 60, prefix="many")
    for n in range(1, 6):
        place(personas, shop, offer=shop.service, name=f"svc-{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/dashboard/")
    assert response.status_code == 200
    assert re.search(r'data-resource="servers">.*?data-count>62<', response.content.decode(), re.S)


def test_the_newest_servers_poll_their_own_ten_rows_not_the_whole_list(personas, shop):
    servers(personas, shop, 12, status="rebooting")
    client = client_for(personas.member)
    html = client.get("/dashboard/").content.decode()
    assert 'hx-get="/dashboard/servers/?compact=1"' in html and html.count("data-instance=") == 10
    partial = client.get("/dashboard/servers/?compact=1").content.decode()
    assert partial.lstrip().startswith('<div id="server-table"') and partial.count("data-instance=") == 10
    assert 'hx-get="/dashboard/servers/?compact=1"' in partial
