"""Account deletion: confirmed by the user, refused while they are the last owner of a shared organisation."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.teams.choices import Role
from apps.teams.models import Organisation
from apps.teams.services import membership_create, organisation_create
from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _delete(client: Client, email: str, password: str = PASSWORD):
    return client.post(reverse("accounts:delete"), {"confirm_email": email, "password": password})


def test_user_deletes_their_account(verified_user, django_user_model):
    organisation_create(name="Solo", owner=verified_user, is_personal=True, actor=verified_user)
    client = Client()
    client.force_login(verified_user)
    assert client.get(reverse("accounts:delete")).status_code == 200
    response = _delete(client, verified_user.email)
    assert response.status_code == 302
    assert not django_user_model.objects.filter(pk=verified_user.pk).exists()
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="accounts.user.delete")
    assert event.changes == {"email": "ada@example.org"}
    # The organisation stays (its invoices are records), without members.
    assert Organisation.objects.get(name="Solo").memberships.count() == 0


def test_deletion_needs_the_email_typed_and_the_password(verified_user, django_user_model):
    client = Client()
    client.force_login(verified_user)
    assert _delete(client, "someone@else.org").status_code == 200
    assert _delete(client, verified_user.email, "wrong-password").status_code == 200
    assert django_user_model.objects.filter(pk=verified_user.pk).exists()


def test_last_owner_of_an_organisation_with_members_cannot_delete(verified_user, django_user_model):
    org = organisation_create(name="Shared Co", owner=verified_user, actor=verified_user)
    membership_create(organisation=org, user=UserFactory(), role=Role.MEMBER, actor=verified_user)
    client = Client()
    client.force_login(verified_user)
    response = _delete(client, verified_user.email)
    assert response.status_code == 200
    assert "transfer ownership" in response.content.decode()
    assert "Shared Co" in response.content.decode()
    assert django_user_model.objects.filter(pk=verified_user.pk).exists()


def test_an_owner_with_a_co_owner_can_delete(verified_user, django_user_model):
    org = organisation_create(name="Shared Co", owner=verified_user, actor=verified_user)
    membership_create(organisation=org, user=UserFactory(), role=Role.OWNER, actor=verified_user)
    client = Client()
    client.force_login(verified_user)
    assert _delete(client, verified_user.email).status_code == 302
    assert not django_user_model.objects.filter(pk=verified_user.pk).exists()
