"""The permission layer: role table, project grants (contractors), suspension, scoped querysets."""

from __future__ import annotations

import pytest

from apps.core.errors import NotFound, PermissionDenied
from apps.teams.access import (
    OrganisationSuspended,
    actor_has_permission,
    object_get_for_actor,
    organisation_get_for_actor,
    organisation_list_for_actor,
    project_list_for_actor,
    restrict_to_actor,
)
from apps.teams.choices import ROLE_PERMISSIONS, Permission, ProjectAccess, Role
from apps.teams.models import Project
from apps.teams.services import organisation_suspend, organisation_unsuspend, project_create, project_grant_set
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", list(Role))
def test_each_role_holds_exactly_its_table_row(world, role):
    user = world.persona(role)
    held = {p for p in Permission if actor_has_permission(user, world.org, p)}
    assert held == set(ROLE_PERMISSIONS[role])


def test_outsider_gets_404_never_403(world):
    with pytest.raises(NotFound):
        organisation_get_for_actor(actor=world.outsider, org_slug_or_id=world.org.pk)
    with pytest.raises(NotFound):
        organisation_get_for_actor(
            actor=world.outsider, org_slug_or_id=world.org.slug, permission=Permission.AUDIT_READ
        )


def test_viewer_sees_but_cannot_manage(world):
    with pytest.raises(PermissionDenied) as exc:
        organisation_get_for_actor(
            actor=world.viewer, org_slug_or_id=world.org.pk, permission=Permission.MEMBERS_MANAGE
        )
    assert exc.value.status_code == 403


def test_contractor_with_a_project_grant_sees_only_that_project(world):
    staging = project_create(organisation=world.org, name="Staging", actor=world.owner)
    contractor = UserFactory(email="dev@contractor.test")
    project_grant_set(project=staging, user=contractor, access=ProjectAccess.WRITE, actor=world.owner)

    assert list(organisation_list_for_actor(actor=contractor)) == [world.org]
    assert organisation_get_for_actor(actor=contractor, org_slug_or_id=world.org.pk) == world.org
    assert list(project_list_for_actor(actor=contractor)) == [staging]
    assert actor_has_permission(contractor, world.org, Permission.RESOURCES_WRITE, obj=staging)
    assert not actor_has_permission(contractor, world.org, Permission.RESOURCES_WRITE, obj=world.project)
    # Nothing organisation-wide.
    for permission in (Permission.MEMBERS_READ, Permission.BILLING_READ, Permission.AUDIT_READ):
        assert not actor_has_permission(contractor, world.org, permission)
    with pytest.raises(NotFound):
        organisation_get_for_actor(actor=contractor, org_slug_or_id=world.org.pk, permission=Permission.MEMBERS_READ)
    with pytest.raises(NotFound):
        object_get_for_actor(Project.objects.all(), actor=contractor, pk=world.project.pk, project_field=None)


def test_read_grant_cannot_write(world):
    contractor = UserFactory()
    project_grant_set(project=world.project, user=contractor, access=ProjectAccess.READ, actor=world.owner)
    assert actor_has_permission(contractor, world.org, Permission.RESOURCES_READ, obj=world.project)
    assert not actor_has_permission(contractor, world.org, Permission.RESOURCES_WRITE, obj=world.project)


def test_restrict_to_actor_scopes_any_project_queryset(world):
    staging = project_create(organisation=world.org, name="Staging", actor=world.owner)
    qs = restrict_to_actor(Project.objects.all(), actor=world.member, project_field=None)
    assert set(qs) == {world.project, staging}
    assert set(restrict_to_actor(Project.objects.all(), actor=world.outsider, project_field=None)) == {
        world.other_project
    }


def test_suspended_organisation_blocks_access_with_reason(world):
    organisation_suspend(organisation=world.org, reason="Unpaid invoice INV-42", actor=None)
    world.org.refresh_from_db()
    with pytest.raises(OrganisationSuspended) as exc:
        organisation_get_for_actor(actor=world.owner, org_slug_or_id=world.org.pk)
    assert exc.value.code == "organisation_suspended"
    assert "Unpaid invoice INV-42" in exc.value.message
    assert not actor_has_permission(world.owner, world.org, Permission.RESOURCES_READ)
    # Outsiders still learn nothing.
    with pytest.raises(NotFound):
        organisation_get_for_actor(actor=world.outsider, org_slug_or_id=world.org.pk)
    organisation_unsuspend(organisation=world.org, actor=None)
    world.org.refresh_from_db()
    assert organisation_get_for_actor(actor=world.owner, org_slug_or_id=world.org.pk) == world.org
