"""Registry for the tenant-isolation walk (tests/teams/test_tenant_isolation.py).

The walk visits EVERY route under /api/v1/. For each URL keyword argument it
needs an object of a given organisation: register a builder here when you add
a route with a new keyword (``instance_id``, ``order_id`` …). A builder takes
the organisation and the ``World`` of personas and returns the value to put in
the URL (usually a primary key), creating the object if needed.

Routes whose view allows anonymous access (public catalogue) are skipped:
they hold no tenant data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apps.teams.choices import ProjectAccess, Role
from apps.teams.models import Membership, Organisation

Builder = Callable[[Organisation, Any], Any]


def _org(org: Organisation, world: Any) -> Any:
    return org.pk


def _member(org: Organisation, world: Any) -> Any:
    return (
        Membership.objects.filter(organisation=org)
        .exclude(role=Role.OWNER)
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
        or Membership.objects.filter(organisation=org).values_list("pk", flat=True).first()
    )


def _invitation(org: Organisation, world: Any) -> Any:
    from apps.teams.services import invitation_create

    owner = Membership.objects.filter(organisation=org, role=Role.OWNER).first().user  # type: ignore[union-attr]
    invitation, _token = invitation_create(
        organisation=org, email=f"invitee-{org.pk}@example.net", role=Role.MEMBER, actor=owner
    )
    return invitation.pk


def _project(org: Organisation, world: Any) -> Any:
    from apps.teams.services import project_create

    return project_create(organisation=org, name=f"Extra {org.slug}", actor=None).pk


def _grant_user(org: Organisation, world: Any) -> Any:
    from apps.teams.services import project_grant_set
    from tests.factories import UserFactory

    project = org.projects.get(is_default=True)
    contractor = UserFactory(email=f"contractor-{org.pk}@example.net")
    owner = Membership.objects.filter(organisation=org, role=Role.OWNER).first().user  # type: ignore[union-attr]
    project_grant_set(project=project, user=contractor, access=ProjectAccess.WRITE, actor=owner)
    return contractor.pk


def _token(org: Organisation, world: Any) -> Any:
    from tests.factories import ApiTokenFactory

    owner = Membership.objects.filter(organisation=org, role=Role.OWNER).first().user  # type: ignore[union-attr]
    return ApiTokenFactory(user=owner, organisation=org).pk


# URL keyword → builder of a value belonging to the given organisation.
OBJECT_BUILDERS: dict[str, Builder] = {
    "org_id": _org,
    "member_id": _member,
    "invitation_id": _invitation,
    "project_id": _project,
    "user_id": _grant_user,
    "token_id": _token,
}

# Request bodies for writes that reference objects in the body rather than the
# URL, keyed by URL name; ``{other}`` values are replaced by the other
# organisation's builder results.
WRITE_BODIES: dict[str, dict[str, Any]] = {
    "api:token-list": {"organisation": "{org_id}", "name": "probe", "scope": "read_write"},
    "api:invitation-list": {"email": "probe@example.net", "role": "member", "project": "{project_id}"},
    "api:project-grant-list": {"email": "probe@example.net", "access": "write"},
    "api:organisation-transfer": {"user_id": "{user_id}"},
}
