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
def test_each_role_holds_exactly_its_table_row(personas, role):
    user = personas.persona(role)
    held = {p for p in Permission if actor_has_permission(user, personas.org, p)}
    assert held == set(ROLE_PERMISSIONS[role])


def test_outsider_gets_404_never_403(personas):
    with pytest.raises(NotFound):
        organisation_get_for_actor(actor=personas.outsider, org_slug_or_id=personas.org.pk)
    with pytest.raises(NotFound):
        organisation_get_for_actor(
            actor=personas.outsider, org_slug_or_id=personas.org.slug, permission=Permission.AUDIT_READ
        )


def test_viewer_sees_but_cannot_manage(personas):
    with pytest.raises(PermissionDenied) as exc:
        organisation_get_for_actor(
            actor=personas.viewer, org_slug_or_id=personas.org.pk, permission=Permission.MEMBERS_MANAGE
        )
    assert exc.value.status_code == 403


def test_contractor_with_a_project_grant_sees_only_that_project(personas):
    staging = project_create(organisation=personas.org, name="Staging", actor=personas.owner)
    contractor = UserFactory(email="dev@contractor.test")
    project_grant_set(project=staging, user=contractor, access=ProjectAccess.WRITE, actor=personas.owner)

    assert list(organisation_list_for_actor(actor=contractor)) == [personas.org]
    assert organisation_get_for_actor(actor=contractor, org_slug_or_id=personas.org.pk) == personas.org
    assert list(project_list_for_actor(actor=contractor)) == [staging]
    assert actor_has_permission(contractor, personas.org, Permission.RESOURCES_WRITE, obj=staging)
    assert not actor_has_permission(contractor, personas.org, Permission.RESOURCES_WRITE, obj=personas.project)
    # Nothing organisation-wide.
    for permission in (Permission.MEMBERS_READ, Permission.BILLING_READ, Permission.AUDIT_READ):
        assert not actor_has_permission(contractor, personas.org, permission)
    with pytest.raises(NotFound):
        organisation_get_for_actor(actor=contractor, org_slug_or_id=personas.org.pk, permission=Permission.MEMBERS_READ)
    with pytest.raises(NotFound):
        object_get_for_actor(Project.objects.all(), actor=contractor, pk=personas.project.pk, project_field=None)


def test_read_grant_cannot_write(personas):
    contractor = UserFactory()
    project_grant_set(project=personas.project, user=contractor, access=ProjectAccess.READ, actor=personas.owner)
    assert actor_has_permission(contractor, personas.org, Permission.RESOURCES_READ, obj=personas.project)
    assert not actor_has_permission(contractor, personas.org, Permission.RESOURCES_WRITE, obj=personas.project)


def test_restrict_to_actor_scopes_any_project_queryset(personas):
    staging = project_create(organisation=personas.org, name="Staging", actor=personas.owner)
    qs = restrict_to_actor(Project.objects.all(), actor=personas.member, project_field=None)
    assert set(qs) == {personas.project, staging}
    assert set(restrict_to_actor(Project.objects.all(), actor=personas.outsider, project_field=None)) == {
        personas.other_project
    }


def test_suspended_organisation_blocks_access_with_reason(personas):
    organisation_suspend(organisation=personas.org, reason="Unpaid invoice INV-42", actor=None)
    personas.org.refresh_from_db()
    with pytest.raises(OrganisationSuspended) as exc:
        organisation_get_for_actor(actor=personas.owner, org_slug_or_id=personas.org.pk)
    assert exc.value.code == "organisation_suspended"
    assert "Unpaid invoice INV-42" in exc.value.message
    assert not actor_has_permission(personas.owner, personas.org, Permission.RESOURCES_READ)
    # Outsiders still learn nothing.
    with pytest.raises(NotFound):
        organisation_get_for_actor(actor=personas.outsider, org_slug_or_id=personas.org.pk)
    organisation_unsuspend(organisation=personas.org, actor=None)
    personas.org.refresh_from_db()
    assert organisation_get_for_actor(actor=personas.owner, org_slug_or_id=personas.org.pk) == personas.org
