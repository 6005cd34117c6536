"""Browser: a project grant to an outsider sends an invitation; "Require MFA" needs the owner's own MFA."""

from __future__ import annotations

import pytest

from apps.teams.models import Invitation, Organisation
from apps.teams.services import organisation_create
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_granting_an_outsider_sends_an_invitation_instead_of_attaching_them(login_page):
    owner = UserFactory(email="owner@acme.test")
    org = organisation_create(name="Acme", owner=owner, actor=owner)
    project = org.projects.get(is_default=True)
    outsider = UserFactory(email="contractor@elsewhere.test")
    page = login_page(owner)
    page.goto(f"/org/projects/{project.pk}/")
    page.fill("#id_email", outsider.email)
    page.select_option("#id_access", "write")
    page.click("text=Grant access")
    page.wait_for_selector(f"text=Invitation sent to {outsider.email}")
    assert not outsider.has_perm("teams.write_resources", project)
    assert Invitation.objects.get(project=project).email == outsider.email


def test_require_mfa_is_refused_until_the_owner_has_mfa(login_page):
    owner = UserFactory(email="owner@mfa.test")
    org = organisation_create(name="Careful", owner=owner, actor=owner)
    page = login_page(owner)
    page.goto("/org/settings/")
    page.check("#id_require_mfa")
    page.locator("#id_require_mfa").evaluate("el => el.form.requestSubmit()")
    page.wait_for_selector("text=Set up two-factor authentication on your own account")
    assert Organisation.objects.get(pk=org.pk).require_mfa is False
