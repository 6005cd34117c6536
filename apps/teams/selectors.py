"""Teams reads, always scoped: either to the actor, or to an organisation the caller
already resolved for the actor with ``access.organisation_get_for_actor``.

The generic, cross-app reads (``organisation_list_for_actor``,
``project_list_for_actor``, ``restrict_to_actor`` …) live in ``apps.teams.access``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.models import UserObjectPermission

from apps.core.errors import NotFound
from apps.core.models import AuditEvent
from apps.core.selectors import audit_event_list
from apps.teams.access import Actor, project_list_for_actor
from apps.teams.choices import GRANT_CODENAMES, InvitationStatus, Permission
from apps.teams.models import ApiToken, Invitation, Membership, Organisation, Project
from apps.teams.rules import tokens


def member_list(*, organisation: Organisation) -> QuerySet[Membership]:
    return Membership.objects.filter(organisation=organisation).select_related("user").order_by("user__email")


def member_get(*, organisation: Organisation, membership_id: Any) -> Membership:
    try:
        return member_list(organisation=organisation).get(pk=membership_id)
    except (Membership.DoesNotExist, ValueError) as exc:
        raise NotFound(_("Member not found.")) from exc


def invitation_list(
    *, organisation: Organisation, pending_only: bool = False, statuses: Sequence[str] | None = None
) -> QuerySet[Invitation]:
    """Invitations of the organisation; ``statuses`` filters on the effective status (pending past its
    expiry reads as expired, as ``Invitation.effective_status`` says)."""
    qs = Invitation.objects.filter(organisation=organisation).select_related("invited_by", "project")
    if pending_only:
        qs = qs.filter(status=InvitationStatus.PENDING)
    if statuses:
        now = timezone.now()
        wanted = Q(status__in=[s for s in statuses if s != InvitationStatus.PENDING])
        if InvitationStatus.PENDING in statuses:
            wanted |= Q(status=InvitationStatus.PENDING, expires_at__gt=now)
        if InvitationStatus.EXPIRED in statuses:
            wanted |= Q(status=InvitationStatus.PENDING, expires_at__lte=now)
        qs = qs.filter(wanted)
    return qs


def invitation_get(*, organisation: Organisation, invitation_id: Any) -> Invitation:
    try:
        return invitation_list(organisation=organisation).get(pk=invitation_id)
    except (Invitation.DoesNotExist, ValueError) as exc:
        raise NotFound(_("Invitation not found.")) from exc


def invitation_get_by_token(*, token: str) -> Invitation | None:
    """The invitation an e-mailed link points to (the token is the credential)."""
    return (
        Invitation.objects.select_related("organisation", "project", "invited_by")
        .filter(token_hash=tokens.hash_token(token))
        .first()
    )


def invitation_list_for_user(*, user: Any) -> QuerySet[Invitation]:
    """Pending, unexpired invitations addressed to the user's e-mail."""
    from django.utils import timezone

    return Invitation.objects.filter(
        email__iexact=user.email, status=InvitationStatus.PENDING, expires_at__gt=timezone.now()
    ).select_related("organisation", "project", "invited_by")


def project_list(*, actor: Actor, organisation: Organisation) -> QuerySet[Project]:
    """Projects of the organisation the actor can see (all for members; granted ones for guests)."""
    return project_list_for_actor(actor=actor, organisation=organisation, permission=Permission.PROJECTS_READ)


@dataclass(frozen=True)
class ProjectGrant:
    user_id: int
    email: str
    access: str


def project_grant_list(*, project: Project) -> list[ProjectGrant]:
    """Who holds a project grant (guardian object permission) on this project."""
    by_codename = {codename: access for access, codename in GRANT_CODENAMES.items()}
    rows = (
        UserObjectPermission.objects.filter(
            content_type=ContentType.objects.get_for_model(Project),
            object_pk=str(project.pk),
            permission__codename__in=list(by_codename),
        )
        .select_related("user", "permission")
        .order_by("user__email")
    )
    return [ProjectGrant(r.user_id, r.user.email, by_codename[r.permission.codename]) for r in rows]


def api_token_list(
    *, user: Any, organisation: Organisation | None = None, active: bool | None = None
) -> QuerySet[ApiToken]:
    """The user's own tokens (never anyone else's), newest first; ``active`` keeps only usable tokens
    (True) or only revoked and expired ones (False)."""
    qs = ApiToken.objects.filter(user=user).select_related("organisation").prefetch_related("projects")
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    if active is not None:
        usable = Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        qs = qs.filter(usable if active else ~usable)
    return qs


def api_token_get(*, user: Any, token_id: Any) -> ApiToken:
    try:
        return api_token_list(user=user).get(pk=token_id)
    except (ApiToken.DoesNotExist, ValueError) as exc:
        raise NotFound(_("Token not found.")) from exc


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor: str = ""
    target_type: str = ""
    target_id: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def audit_event_list_for_organisation(
    *, organisation: Organisation, filters: AuditFilters | None = None
) -> QuerySet[AuditEvent]:
    """The organisation's audit trail (caller checked ``audit.read``), filtered.

    ``action`` matches exactly or as a prefix ending in a dot (``membership.``);
    ``actor`` matches the actor's e-mail or the token prefix; ``target_type`` is
    ``app_label.model``.
    """
    qs = audit_event_list(organisation_id=organisation.pk)
    f = filters or AuditFilters()
    if f.action:
        qs = qs.filter(action__startswith=f.action) if f.action.endswith(".") else qs.filter(action=f.action)
    if f.actor:
        qs = qs.filter(Q(actor_label__iexact=f.actor) | Q(actor_token=f.actor))
    if f.target_type:
        app_label, _sep, model = f.target_type.partition(".")
        qs = qs.filter(target_type__app_label=app_label, target_type__model=model)
    if f.target_id:
        qs = qs.filter(target_id=f.target_id)
    if f.since:
        qs = qs.filter(created_at__gte=f.since)
    if f.until:
        qs = qs.filter(created_at__lt=f.until)
    return qs
