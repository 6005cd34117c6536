"""Browser: an owner invites a member who accepts; a member switches organisation."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from apps.teams.choices import Role
from apps.teams.models import Membership
from apps.teams.services import membership_create, organisation_create
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_invites_a_member_who_accepts(login_page, live_server):
    owner = UserFactory(email="owner@acme.test")
    org = organisation_create(name="Acme", owner=owner, actor=owner)
    page = login_page(owner)
    page.goto("/org/members/")
    page.fill("#id_email", "jo@example.com")
    page.select_option("#id_role", "admin")
    page.click("text=Send invitation")
    page.wait_for_selector("text=Invitation sent to jo@example.com")
    assert page.locator("#invitations").inner_text().count("jo@example.com") == 1

    link = re.search(r"https?://\S+/org/invitations/\S+/", mail.outbox[-1].body)[0]
    path = "/" + link.split("/", 3)[3]
    jo = UserFactory(email="jo@example.com")
    page.context.clear_cookies()
    page = login_page(jo)
    page.goto(path)
    page.click("button[value=accept]")
    page.wait_for_url(re.compile(r".*/dashboard/"))
    assert Membership.objects.get(organisation=org, user=jo).role == Role.ADMIN


def test_org_switcher_changes_the_current_organisation(login_page):
    user = UserFactory(email="multi@example.com")
    organisation_create(name="Alpha Labs", owner=user, actor=user)
    other_owner = UserFactory()
    beta = organisation_create(name="Beta Corp", owner=other_owner, actor=other_owner)
    membership_create(organisation=beta, user=user, role=Role.VIEWER, actor=None)
    page = login_page(user)
    page.goto("/org/settings/")
    assert page.locator("h1").first.inner_text() == "Alpha Labs"
    page.select_option("#org-switcher-select", label="Beta Corp")
    page.wait_for_selector("h1:has-text('Beta Corp')")
    assert "viewer" in page.locator(".page-header").inner_text().lower()
    page.goto("/org/members/")
    assert page.locator("#org-switcher-select option:checked").inner_text() == "Beta Corp"
