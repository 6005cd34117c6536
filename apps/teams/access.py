"""The one permission layer: who may do what in which organisation, project or object.

The API, the portal and the admin all decide access through these functions,
so a rule changes in one place. Rules (also published in the docs):

* A *member* of an organisation has the permissions of their role
  (``ROLE_PERMISSIONS``) on the whole organisation.
* A *project grant* (django-guardian object permission ``read_resources`` /
  ``write_resources`` on a ``Project``, or on one resource of a higher app)
  gives someone who need not be a member access to that project's resources
  only. Through it they see the organisation's name and the project, nothing
  organisation-wide (no members, billing or audit).
* An *API token* narrows its holder: effective permissions are role ∩ token
  scope ∩ project limit, and a token only ever sees its own organisation.
* Another organisation's object is *not found* (404), never 403 and never
  data: an actor who cannot read something cannot learn that it exists. An
  actor who can read it but not change it gets 403.
* A suspended organisation is visible to its members as suspended (403 with
  code ``organisation_suspended`` and the reason) and nothing in it is usable.

Tokens ride on the user object: the API authentication calls ``bind_token``
so every selector and service that receives ``actor=request.user`` applies
the token's limits without having to be passed the token (Sentry's
``request.access`` idea, without a second argument to forget).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, models
from django.db.models import BigIntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from guardian.models import UserObjectPermission

from apps.core.actors import BOUND_TOKEN_ATTRIBUTE, Actor, actor_token_prefix  # noqa: F401 - re-exported for callers
from apps.core.errors import NotFound, PermissionDenied
from apps.teams.choices import (
    GRANT_CODENAMES,
    GRANT_PERMISSIONS,
    PROJECT_LIMITED_TOKEN_PERMISSIONS,
    READ_PERMISSIONS,
    ROLE_PERMISSIONS,
    TOKEN_EXCLUDED_PERMISSIONS,
    Permission,
    ProjectAccess,
    TokenScope,
)
from apps.teams.models import ApiToken, Membership, Organisation, Project

M = TypeVar("M", bound=models.Model)
_TOKEN_ATTR = BOUND_TOKEN_ATTRIBUTE
NO_PERMISSIONS: frozenset[Permission] = frozenset()


class OrganisationSuspended(PermissionDenied):
    """The organisation exists and the actor belongs to it, but staff suspended it."""

    default_code = "organisation_suspended"


# ---------------------------------------------------------------------------
# Tokens bound to the acting user
# ---------------------------------------------------------------------------
_MISSING: Any = object()
# Annotations of ``token_auth_queryset``: read once, with the token, at authentication.
_ROLE_ANNOTATION = "vmc_holder_role"
_LIMIT_ANNOTATION = "vmc_limit_project_ids"


@cache
def token_auth_queryset() -> QuerySet[ApiToken]:
    """Tokens as the API authentication loads them: user and organisation joined, plus, in the same query,
    the holder's role in the token's organisation and (PostgreSQL) the token's project limit.

    ``bind_token`` keeps both on the token, so scoping a token request's reads
    (``project_list_for_actor``) needs no second and third query for them
    (``benchmarks/instance_list_bench.py``). Like the token row itself they are
    read once per request, when the request authenticates. Built once per process (never evaluated
    itself: callers ``filter()`` a clone), since building the subqueries costs more than running them.
    """
    role = Membership.objects.filter(organisation_id=OuterRef("organisation_id"), user_id=OuterRef("user_id"))
    qs = ApiToken.objects.select_related("user", "organisation").annotate(
        **{_ROLE_ANNOTATION: Subquery(role.order_by().values("role")[:1])}
    )
    if connection.vendor == "postgresql":
        through = ApiToken.projects.through.objects.filter(apitoken_id=OuterRef("pk")).values("project_id")
        qs = qs.annotate(**{_LIMIT_ANNOTATION: ArraySubquery(through)})
    return qs


def bind_token(user: AbstractBaseUser, token: ApiToken) -> None:
    """Called by the token authentication: the user now acts within the token's limits."""
    setattr(user, _TOKEN_ATTR, token)
    limit = token.__dict__.get(_LIMIT_ANNOTATION)
    if limit is not None:
        token._project_ids = (frozenset(limit),)  # type: ignore[attr-defined]


def bound_token(actor: Actor) -> ApiToken | None:
    token = getattr(actor, _TOKEN_ATTR, None)
    return token if isinstance(token, ApiToken) else None


def _is_user(actor: Actor) -> bool:
    return isinstance(actor, AbstractBaseUser) and not isinstance(actor, AnonymousUser) and actor.is_active


# ---------------------------------------------------------------------------
# Permission computation
# ---------------------------------------------------------------------------
def _apply_token(permissions: frozenset[Permission], token: ApiToken | None) -> frozenset[Permission]:
    if token is None:
        return permissions
    permissions = permissions - TOKEN_EXCLUDED_PERMISSIONS
    if token.scope == TokenScope.READ_ONLY:
        permissions = permissions & READ_PERMISSIONS
    return permissions


def _token_project_ids(token: ApiToken) -> frozenset[int] | None:
    """Projects a token is limited to, or None for every project (cached on the token)."""
    cached = getattr(token, "_project_ids", None)
    if cached is None:
        ids = frozenset(token.projects.values_list("id", flat=True))
        cached = (ids,)
        token._project_ids = cached  # type: ignore[attr-defined]
    return cached[0] or None


def role_in(actor: Actor, organisation: Organisation | int) -> str | None:
    """The actor's role in the organisation, or None when not a member."""
    if not _is_user(actor):
        return None
    org_id = organisation if isinstance(organisation, int) else organisation.pk
    members = Membership.objects.filter(organisation_id=org_id, user=actor)  # type: ignore[misc]  # a user: _is_user above
    return members.values_list("role", flat=True).first()


def organisation_permissions(actor: Actor, organisation: Organisation) -> frozenset[Permission]:
    """Organisation-wide permissions: role ∩ token scope (∩ project-limit rules). Empty if suspended."""
    if not _is_user(actor) or organisation.is_suspended:
        return NO_PERMISSIONS
    token = bound_token(actor)
    if token is not None and token.organisation_id != organisation.pk:
        return NO_PERMISSIONS
    role = role_in(actor, organisation)
    if role is None:
        return NO_PERMISSIONS
    permissions = _apply_token(ROLE_PERMISSIONS[role], token)
    if token is not None and _token_project_ids(token) is not None:
        # A project-limited token holds resource rights per project only (see
        # _project_of); organisation-wide it keeps no more than reading the org.
        permissions = permissions & frozenset({Permission.ORG_READ})
    return permissions


def _grant_codenames(actor: Actor, obj: models.Model) -> set[str]:
    ct = ContentType.objects.get_for_model(obj)
    return set(
        UserObjectPermission.objects.filter(
            user=actor,  # type: ignore[misc]  # callers pass a signed-in user
            content_type=ct,
            object_pk=str(obj.pk),
            permission__codename__in=GRANT_CODENAMES.values(),
        ).values_list("permission__codename", flat=True)
    )


def _grant_permissions(codenames: Iterable[str]) -> frozenset[Permission]:
    out: frozenset[Permission] = frozenset()
    for access, codename in GRANT_CODENAMES.items():
        if codename in codenames:
            out |= GRANT_PERMISSIONS[access]
    return out


def _project_of(obj: models.Model) -> Project | None:
    if isinstance(obj, Project):
        return obj
    project = getattr(obj, "project", None)
    return project if isinstance(project, Project) else None


def object_permissions(actor: Actor, organisation: Organisation, obj: models.Model) -> frozenset[Permission]:
    """Permissions on one project or one resource (an object with a ``project`` foreign key).

    (role permissions ∪ project grant ∪ object grant) ∩ token scope ∩ token project limit.
    """
    if not _is_user(actor) or organisation.is_suspended:
        return NO_PERMISSIONS
    token = bound_token(actor)
    if token is not None and token.organisation_id != organisation.pk:
        return NO_PERMISSIONS
    project = _project_of(obj)
    if project is not None and project.organisation_id != organisation.pk:
        return NO_PERMISSIONS
    role = role_in(actor, organisation)
    permissions = ROLE_PERMISSIONS[role] if role else NO_PERMISSIONS
    if project is not None:
        permissions = permissions | _grant_permissions(_grant_codenames(actor, project))
    if project is not obj and not isinstance(obj, Organisation):
        permissions = permissions | _grant_permissions(_grant_codenames(actor, obj))
    permissions = _apply_token(permissions, token)
    if token is not None:
        limit = _token_project_ids(token)
        if limit is not None:
            if project is None or project.pk not in limit:
                return NO_PERMISSIONS
            permissions = permissions & PROJECT_LIMITED_TOKEN_PERMISSIONS
    return permissions


def actor_has_permission(
    actor: Actor, organisation: Organisation, permission: Permission, obj: models.Model | None = None
) -> bool:
    """Whether the actor (a user, maybe through a token) holds ``permission`` in the organisation.

    With ``obj`` (a Project, or a resource with a ``project`` foreign key),
    project and object grants count too.
    """
    if obj is None or isinstance(obj, Organisation):
        return permission in organisation_permissions(actor, organisation)
    return permission in object_permissions(actor, organisation, obj)


def require_permission(
    actor: Actor, organisation: Organisation, permission: Permission, obj: models.Model | None = None
) -> None:
    """Raise 403 unless the actor holds the permission. Call only once the actor may *see* the object."""
    if organisation.is_suspended:
        raise_suspended(organisation)
    if not actor_has_permission(actor, organisation, permission, obj):
        raise PermissionDenied(_("Your role does not allow this action."), code="permission_denied")


def raise_suspended(organisation: Organisation) -> None:
    raise OrganisationSuspended(
        _("The organisation “%(name)s” is suspended: %(reason)s")
        % {"name": organisation.name, "reason": organisation.suspension_reason or _("contact support.")}
    )


# ---------------------------------------------------------------------------
# Scoped reads
# ---------------------------------------------------------------------------
def _granted_project_ids(actor: Actor, codenames: Iterable[str]) -> QuerySet[Any]:
    ct = ContentType.objects.get_for_model(Project)
    return (
        UserObjectPermission.objects.filter(user=actor, content_type=ct, permission__codename__in=list(codenames))  # type: ignore[misc]
        .annotate(project_id=Cast("object_pk", BigIntegerField()))
        .values("project_id")
    )


def organisation_list_for_actor(*, actor: Actor) -> QuerySet[Organisation]:
    """Organisations the actor belongs to, or reaches through a project grant (suspended ones included).

    A token sees its own organisation only.
    """
    if not _is_user(actor):
        return Organisation.objects.none()
    token = bound_token(actor)
    visible = Q(memberships__user=actor) | Q(projects__in=_granted_project_ids(actor, GRANT_CODENAMES.values()))
    qs = Organisation.objects.filter(pk__in=Organisation.objects.filter(visible).values("pk"))
    if token is not None:
        qs = qs.filter(pk=token.organisation_id)
    return qs


def organisation_get_for_actor(
    *, actor: Actor, org_slug_or_id: str | int, permission: Permission = Permission.ORG_READ
) -> Organisation:
    """The organisation if the actor holds ``permission`` in it.

    Not visible → ``NotFound`` (404); visible but suspended →
    ``OrganisationSuspended`` (403); visible without the permission → 403.
    A project-only guest holds ORG_READ through their grant but no other
    organisation-wide permission.
    """
    lookup = Q(slug=org_slug_or_id)
    # Only ids a bigint column can hold: a longer number is a slug that matches nothing, never an overflow.
    text = str(org_slug_or_id)
    if text.isascii() and text.isdigit() and 0 < int(text) < 2**63:
        lookup |= Q(pk=int(org_slug_or_id))
    organisation = organisation_list_for_actor(actor=actor).filter(lookup).first()
    if organisation is None:
        raise NotFound(_("Organisation not found."))
    if organisation.is_suspended:
        raise_suspended(organisation)
    permissions = organisation_permissions(actor, organisation)
    if permission == Permission.ORG_READ and not permissions:
        # A guest with a project grant sees the organisation by name only.
        guest = project_list_for_actor(
            actor=actor, organisation=organisation, permission=Permission.PROJECTS_READ, include_suspended=True
        ).exists()
        permissions = frozenset({Permission.ORG_READ}) if guest else NO_PERMISSIONS
    if permission not in permissions:
        if not permissions:
            raise NotFound(_("Organisation not found."))
        raise PermissionDenied(_("Your role does not allow this action."))
    return organisation


def project_list_for_actor(
    *,
    actor: Actor,
    organisation: Organisation | None = None,
    permission: Permission = Permission.RESOURCES_READ,
    include_suspended: bool = False,
) -> QuerySet[Project]:
    """Projects in which the actor holds ``permission``: through a role (all projects of the
    organisation) or a project grant, narrowed by the token's organisation, scope and project limit.
    """
    if not _is_user(actor):
        return Project.objects.none()
    token = bound_token(actor)
    if (
        token is not None
        and _token_project_ids(token) is not None
        and permission not in PROJECT_LIMITED_TOKEN_PERMISSIONS
    ):
        return Project.objects.none()
    roles = [role for role, perms in ROLE_PERMISSIONS.items() if permission in _apply_token(perms, token)]
    grant_codenames = [
        GRANT_CODENAMES[access]
        for access in ProjectAccess
        if permission in _apply_token(GRANT_PERMISSIONS[access], token)
    ]
    if token is not None and token.__dict__.get(_ROLE_ANNOTATION, _MISSING) in roles:
        return _token_role_projects(token, organisation=organisation, include_suspended=include_suspended)
    condition = Q(organisation__memberships__user=actor, organisation__memberships__role__in=roles)
    if grant_codenames:
        condition |= Q(pk__in=_granted_project_ids(actor, grant_codenames))
    qs = Project.objects.filter(pk__in=Project.objects.filter(condition).values("pk")).select_related("organisation")
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    if not include_suspended:
        qs = qs.filter(organisation__suspended_at__isnull=True)
    if token is not None:
        qs = qs.filter(organisation_id=token.organisation_id)
        limit = _token_project_ids(token)
        if limit is not None:
            qs = qs.filter(pk__in=limit)
    return qs


def _token_role_projects(
    token: ApiToken, *, organisation: Organisation | None, include_suspended: bool
) -> QuerySet[Project]:
    """``project_list_for_actor`` for a token whose holder's role (read with the token by
    ``token_auth_queryset``) gives the permission: every project of the token's organisation, so grants
    add nothing. The organisation was loaded with the token too, so its suspension needs no join.
    """
    if not include_suspended and token.organisation.is_suspended:
        return Project.objects.none()
    qs = Project.objects.filter(organisation_id=token.organisation_id).select_related("organisation")
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    limit = _token_project_ids(token)
    if limit is not None:
        qs = qs.filter(pk__in=limit)
    return qs


def project_get_for_actor(
    *,
    actor: Actor,
    organisation: Organisation,
    project_id: int | str,
    permission: Permission = Permission.PROJECTS_READ,
) -> Project:
    """One project of the organisation: 404 unless the actor can see it, 403 if seen but ``permission`` is missing."""
    project = object_get_for_actor(
        Project.objects.filter(organisation=organisation),
        actor=actor,
        pk=project_id,
        permission=permission,
        project_field=None,
    )
    return project


def restrict_to_actor(
    queryset: QuerySet[M],
    *,
    actor: Actor,
    permission: Permission = Permission.RESOURCES_READ,
    project_field: str | None = "project",
    include_suspended: bool = False,
) -> QuerySet[M]:
    """Narrow any queryset of project-scoped objects to those the actor holds ``permission`` on.

    ``project_field`` is the path to the object's Project (``"project"``,
    ``"instance__project"``), or None when the queryset *is* of projects.
    Objects granted one by one (guardian ``read_resources`` / ``write_resources``
    on the object itself) are included too. Higher apps build every list and
    detail query on this: ``restrict_to_actor(Instance.objects.all(), actor=user)``.
    """
    projects = project_list_for_actor(actor=actor, permission=permission, include_suspended=include_suspended)
    # One small query for the visible project ids, then a plain IN list: the count and the page of a
    # list no longer each re-run the membership/token/grant subqueries (benchmarks/instance_list_bench.py).
    project_ids = list(projects.values_list("pk", flat=True))
    if project_field is None:
        return queryset.filter(pk__in=project_ids)
    condition = Q(**{f"{project_field}__in": project_ids})
    token = bound_token(actor)
    codenames = [
        GRANT_CODENAMES[access]
        for access in ProjectAccess
        if permission in _apply_token(GRANT_PERMISSIONS[access], token)
    ]
    model = queryset.model
    if _is_user(actor) and codenames and model is not Project and token is None:
        # One-object grants (e.g. one instance to a contractor); tokens keep to
        # their organisation's projects, so they skip this branch.
        ct = ContentType.objects.get_for_model(model)
        granted = (
            UserObjectPermission.objects.filter(user=actor, content_type=ct, permission__codename__in=codenames)  # type: ignore[misc]
            .annotate(obj_id=Cast("object_pk", BigIntegerField()))
            .values("obj_id")
        )
        condition |= Q(pk__in=granted)
        if not include_suspended:
            condition &= Q(**{f"{project_field}__organisation__suspended_at__isnull": True})
    return queryset.filter(condition)


def object_get_for_actor(
    queryset: QuerySet[M],
    *,
    actor: Actor,
    pk: Any,
    permission: Permission = Permission.RESOURCES_READ,
    project_field: str | None = "project",
) -> M:
    """One object: ``NotFound`` unless the actor can read it; 403 if it can read but lacks ``permission``.

    The read check uses the read permission matching ``permission``'s family
    (``resources.write`` → ``resources.read``, ``projects.manage`` →
    ``projects.read``). A suspended organisation's object raises
    ``OrganisationSuspended`` for those who could otherwise see it.
    """
    read_permission = _READ_OF.get(permission, permission)
    try:
        obj = restrict_to_actor(
            queryset, actor=actor, permission=read_permission, project_field=project_field, include_suspended=True
        ).get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("Not found.")) from exc
    project = obj if isinstance(obj, Project) else _project_at(obj, project_field)
    organisation = project.organisation if project is not None else None
    if organisation is None:
        raise NotFound(_("Not found."))
    if organisation.is_suspended:
        raise_suspended(organisation)
    if permission != read_permission and not actor_has_permission(actor, organisation, permission, obj):
        raise PermissionDenied(_("Your role does not allow this action."))
    return obj


def _project_at(obj: models.Model, project_field: str | None) -> Project | None:
    current: Any = obj
    for part in (project_field or "").split("__"):
        if not part:
            continue
        current = getattr(current, part, None)
        if current is None:
            return None
    return current if isinstance(current, Project) else None


# Writes are checked against visibility with the read permission of the same family.
_READ_OF: dict[Permission, Permission] = {
    Permission.RESOURCES_WRITE: Permission.RESOURCES_READ,
    Permission.PROJECTS_MANAGE: Permission.PROJECTS_READ,
    Permission.ORG_UPDATE: Permission.ORG_READ,
    Permission.MEMBERS_MANAGE: Permission.MEMBERS_READ,
    Permission.BILLING_MANAGE: Permission.BILLING_READ,
}
