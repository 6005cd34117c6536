"""Projects and project grants: create, update, delete (or archive when only past rows hold it), grants.

A grant gives one user read or write access to one project only (a guardian
object permission, ``GRANT_CODENAMES``); ``_grant`` sets it, replacing any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, get_users_with_perms, remove_perm

from apps.core.errors import Conflict, ValidationFailed
from apps.core.labels import labels_validate
from apps.core.services import audit_record, model_changes
from apps.teams.choices import GRANT_CODENAMES, ProjectAccess
from apps.teams.models import ApiToken, Organisation, Project
from apps.teams.services.organisations import _unique_slug

if TYPE_CHECKING:
    from apps.accounts.models import User


def _validate_project(name: str, description: str) -> tuple[str, str]:
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 100:
        errors["name"] = [_("Enter a name of 1 to 100 characters.")]
    if len(description) > 500:
        errors["description"] = [_("At most 500 characters.")]
    if errors:
        raise ValidationFailed(_("Invalid input."), fields=errors)
    return name, description.strip()


@transaction.atomic
def project_create(
    *,
    organisation: Organisation,
    name: str,
    description: str = "",
    actor: User | None,
    labels: Mapping[str, str] | None = None,
) -> Project:
    name, description = _validate_project(name, description)
    clean_labels = labels_validate(labels)
    slug = _unique_slug(name, lambda s: Project.all_objects.filter(organisation=organisation, slug=s).exists())
    project = Project.objects.create(
        organisation=organisation, name=name, slug=slug, description=description, labels=clean_labels
    )
    audit_record(
        actor=actor, action="project.create", organisation_id=organisation.pk, target=project, changes={"name": name}
    )
    return project


@transaction.atomic
def project_update(
    *,
    project: Project,
    actor: User,
    name: str | None = None,
    description: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Project:
    project = Project.objects.select_for_update().get(pk=project.pk)
    new_name, new_description = _validate_project(
        project.name if name is None else name, project.description if description is None else description
    )
    before = {"name": project.name, "description": project.description, "labels": project.labels}
    project.name, project.description = new_name, new_description
    if labels is not None:
        project.labels = labels_validate(labels)
    changes = model_changes(project, ["name", "description", "labels"], before)
    if changes:
        project.save(update_fields=["name", "description", "labels", "updated_at"])
        audit_record(
            actor=actor,
            action="project.update",
            organisation_id=project.organisation.pk,
            target=project,
            changes=changes,
        )
    return project


@transaction.atomic
def project_delete(*, project: Project, actor: User) -> None:
    """Delete a non-default project with no live resources (resources of higher apps protect their project).

    Rows of the past also point at a project: a deleted server, a completed
    order, invoiced hours in the ledger. They must keep it (invoices name it),
    so a project that only they hold is archived instead: hidden everywhere,
    its slug freed. A protecting model says whether a row still holds its
    project with a ``holds_project`` property; a model without one always does.
    """
    project = Project.objects.select_for_update().select_related("organisation").get(pk=project.pk)
    if project.is_default:
        raise Conflict(_("The default project cannot be deleted."), code="project_is_default")
    audit_record(actor=actor, action="project.delete", organisation_id=project.organisation.pk, target=project)
    try:
        with transaction.atomic():
            project.delete()
    except ProtectedError as exc:
        live = [row for row in exc.protected_objects if getattr(row, "holds_project", True)]
        if live:
            names = [f"{row} ({row._meta.verbose_name})" for row in live[:5]]
            if len(live) > 5:
                names.append(_("and %(count)s more") % {"count": len(live) - 5})
            raise Conflict(
                _("Delete or move the project's resources first: %(resources)s.") % {"resources": ", ".join(names)},
                code="project_not_empty",
            ) from exc
        project.archived_at = timezone.now()
        project.slug = f"{project.slug[:40]}-deleted-{project.pk}"
        project.save(update_fields=["archived_at", "slug", "updated_at"])
        # Grants on an archived project give access to nothing; they go with it.
        for user in get_users_with_perms(project, with_group_users=False):
            for codename in GRANT_CODENAMES.values():
                remove_perm(f"teams.{codename}", user, project)


def _grant(*, project: Project, user: User, access: str) -> None:
    for codename in GRANT_CODENAMES.values():
        remove_perm(f"teams.{codename}", user, project)
    assign_perm(f"teams.{GRANT_CODENAMES[access]}", user, project)


@transaction.atomic
def project_grant_set(*, project: Project, user: User, access: str, actor: User) -> None:
    """Give ``user`` (member or not) read or write access to this project only."""
    if access not in ProjectAccess.values:
        raise ValidationFailed(_("Invalid input."), fields={"access": [_("Choose read or write.")]})
    _grant(project=project, user=user, access=access)
    audit_record(
        actor=actor,
        action="project.grant",
        organisation_id=project.organisation.pk,
        target=project,
        changes={"user": user.email, "access": access},
    )


@transaction.atomic
def project_grant_delete(*, project: Project, user: User, actor: User) -> None:
    for codename in GRANT_CODENAMES.values():
        remove_perm(f"teams.{codename}", user, project)
    ApiToken.objects.filter(user=user, organisation=project.organisation, revoked_at__isnull=True).exclude(
        user__memberships__organisation=project.organisation
    ).update(revoked_at=timezone.now())
    audit_record(
        actor=actor,
        action="project.grant_delete",
        organisation_id=project.organisation.pk,
        target=project,
        changes={"user": user.email},
    )
