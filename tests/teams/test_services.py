"""Organisation, membership and ownership services: invariants and audit events."""

from __future__ import annotations

import pytest
from django.db import transaction

from apps.core.errors import Conflict, PermissionDenied
from apps.core.models import AuditEvent
from apps.teams.choices import Role
from apps.teams.models import Membership, Organisation, Project
from apps.teams.services import (
    membership_create,
    membership_delete,
    membership_update_role,
    organisation_create,
    ownership_transfer,
    personal_organisation_ensure,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_organisation_create_makes_owner_and_default_project():
    user = UserFactory()
    org = organisation_create(name="Acme Cloud", owner=user, actor=user)
    assert org.slug == "acme-cloud"
    assert Membership.objects.get(organisation=org).role == Role.OWNER
    project = Project.objects.get(organisation=org)
    assert project.is_default and project.slug == "default"
    actions = set(AuditEvent.objects.filter(organisation_id=org.pk).values_list("action", flat=True))
    assert actions == {"organisation.create", "project.create"}


def test_organisation_slugs_stay_unique():
    user = UserFactory()
    first = organisation_create(name="Acme", owner=user, actor=user)
    second = organisation_create(name="Acme", owner=user, actor=user)
    assert first.slug != second.slug


def test_personal_organisation_ensure_is_idempotent():
    user = UserFactory(full_name="Marie Curie")
    first = personal_organisation_ensure(user=user)
    second = personal_organisation_ensure(user=user)
    assert first.pk == second.pk
    assert first.is_personal
    assert Organisation.objects.filter(memberships__user=user).count() == 1
    assert first.projects.filter(is_default=True).count() == 1


def test_membership_create_rejects_duplicates(personas):
    with pytest.raises(Conflict) as exc:
        membership_create(organisation=personas.org, user=personas.member, role=Role.ADMIN, actor=None)
    assert exc.value.code == "already_member"


def test_admin_cannot_appoint_an_owner(personas):
    newcomer = UserFactory()
    with pytest.raises(PermissionDenied):
        membership_create(organisation=personas.org, user=newcomer, role=Role.OWNER, actor=personas.admin)
    membership = Membership.objects.get(organisation=personas.org, user=personas.member)
    with pytest.raises(PermissionDenied):
        membership_update_role(membership=membership, role=Role.OWNER, actor=personas.admin)


def test_last_owner_cannot_leave_or_be_demoted(personas):
    membership = Membership.objects.get(organisation=personas.org, user=personas.owner)
    with pytest.raises(Conflict) as exc:
        membership_delete(membership=membership, actor=personas.owner)
    assert exc.value.code == "last_owner"
    with pytest.raises(Conflict):
        membership_update_role(membership=membership, role=Role.ADMIN, actor=personas.owner)
    assert Membership.objects.get(pk=membership.pk).role == Role.OWNER


def test_owner_can_leave_once_another_owner_exists(personas):
    membership_update_role(
        membership=Membership.objects.get(organisation=personas.org, user=personas.admin),
        role=Role.OWNER,
        actor=personas.owner,
    )
    membership_delete(
        membership=Membership.objects.get(organisation=personas.org, user=personas.owner), actor=personas.owner
    )
    assert not Membership.objects.filter(organisation=personas.org, user=personas.owner).exists()
    assert AuditEvent.objects.filter(organisation_id=personas.org.pk, action="membership.leave").exists()


def test_ownership_transfer_swaps_roles(personas):
    ownership_transfer(organisation=personas.org, new_owner=personas.member, actor=personas.owner)
    roles = dict(Membership.objects.filter(organisation=personas.org).values_list("user__email", "role"))
    assert roles[personas.member.email] == Role.OWNER
    assert roles[personas.owner.email] == Role.ADMIN


def test_only_an_owner_can_transfer_ownership(personas):
    with pytest.raises(PermissionDenied):
        ownership_transfer(organisation=personas.org, new_owner=personas.member, actor=personas.admin)


def test_audit_event_rolls_back_with_the_change(personas):
    before = AuditEvent.objects.count()
    newcomer = UserFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        membership_create(organisation=personas.org, user=newcomer, role=Role.MEMBER, actor=personas.owner)
        assert AuditEvent.objects.filter(action="membership.create").exists()
        raise RuntimeError("boom")
    assert AuditEvent.objects.count() == before
    assert not Membership.objects.filter(user=newcomer).exists()


@pytest.mark.django_db
def test_organisation_named_like_a_portal_route_gets_another_slug(django_user_model):
    from apps.teams.services import organisation_create

    owner = django_user_model.objects.create_user(email="sso-owner@example.com", password="x" * 14)
    organisation = organisation_create(name="SSO", owner=owner, actor=owner)
    assert organisation.slug != "sso"
    assert organisation.slug.startswith("sso")
