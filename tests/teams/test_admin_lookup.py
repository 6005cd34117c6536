"""Staff can look a person or an organisation up and see roles, tokens (never secrets) and SSO settings."""

from __future__ import annotations

import pytest

from apps.sso.models import SamlConnection
from tests.factories import ApiTokenFactory, organisation_with_owner

pytestmark = pytest.mark.django_db


def test_user_admin_page_lists_organisations_roles_and_tokens_without_secrets(client, staff_user):
    organisation = organisation_with_owner(name="Initech")
    owner = organisation.memberships.get().user
    token = ApiTokenFactory(user=owner, organisation=organisation, name="ci-deploy")
    client.force_login(staff_user)

    html = client.get(f"/admin/accounts/user/{owner.pk}/change/").content.decode()

    assert "Initech" in html and "Owner" in html
    assert "ci-deploy" in html and token.prefix in html
    assert token.plaintext not in html


def test_organisation_admin_page_shows_its_sso_settings(client, staff_user):
    organisation = organisation_with_owner(name="Umbrella")
    SamlConnection.objects.create(
        organisation=organisation, slug="umbrella", enabled=True, idp_entity_id="https://idp.umbrella.example/saml"
    )
    client.force_login(staff_user)

    html = client.get(f"/admin/teams/organisation/{organisation.pk}/change/").content.decode()

    assert "SAML single sign-on" in html
    assert "https://idp.umbrella.example/saml" in html
