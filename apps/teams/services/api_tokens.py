"""API tokens: create a personal access token, revoke it, record its last use.

The token format and its hashing are ``apps.teams.rules.tokens``; a token's
rights stay bounded by its holder's role at each request (``apps.teams.access``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.choices import ActorKind
from apps.core.errors import PermissionDenied, ValidationFailed
from apps.core.services import audit_record
from apps.teams.access import actor_has_permission, bound_token, role_in
from apps.teams.choices import READ_PERMISSIONS, ROLE_PERMISSIONS, TOKEN_EXCLUDED_PERMISSIONS, Permission, TokenScope
from apps.teams.models import ApiToken, Organisation, Project
from apps.teams.rules import tokens

if TYPE_CHECKING:
    from apps.accounts.models import User

TOKEN_MAX_LIFETIME = dt.timedelta(days=366)
# Last-used bookkeeping is written at most once a minute per token, so a busy
# token costs no write per request.
TOKEN_TOUCH_INTERVAL = dt.timedelta(seconds=60)


@transaction.atomic
def api_token_create(
    *,
    user: User,
    organisation: Organisation,
    name: str,
    scope: str,
    expires_at: dt.datetime | None,
    projects: Iterable[Project] = (),
) -> tuple[ApiToken, str]:
    """Create a personal access token; returns the row and the secret, which is never shown again.

    Only a member holding ``tokens.manage_own`` may create one, from a session
    (a token cannot mint tokens). Its rights stay bounded by the role at each request.
    """
    if bound_token(user) is not None or not actor_has_permission(user, organisation, Permission.TOKENS_MANAGE_OWN):
        raise PermissionDenied(_("You cannot create tokens for this organisation."))
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 100:
        errors["name"] = [_("Enter a name of 1 to 100 characters.")]
    if scope not in TokenScope.values:
        errors["scope"] = [_("Choose read_only or read_write.")]
    role = role_in(user, organisation)
    if (
        scope == TokenScope.READ_WRITE
        and role
        and ROLE_PERMISSIONS[role] <= READ_PERMISSIONS | TOKEN_EXCLUDED_PERMISSIONS
    ):
        errors["scope"] = [_("Your role is read-only: create a read-only token.")]
    now = timezone.now()
    if expires_at is not None and (expires_at <= now or expires_at > now + TOKEN_MAX_LIFETIME):
        errors["expires_at"] = [_("Choose a time in the future, at most one year away.")]
    project_list = list(projects)
    if any(p.organisation_id != organisation.pk for p in project_list):
        errors["projects"] = [_("Choose projects of this organisation.")]
    if errors:
        raise ValidationFailed(_("Invalid input."), fields=errors)
    new = tokens.generate_api_token()
    token = ApiToken.objects.create(
        user=user,
        organisation=organisation,
        name=name,
        prefix=new.prefix,
        secret_hash=new.secret_hash,
        scope=scope,
        expires_at=expires_at,
    )
    if project_list:
        token.projects.set(project_list)
    audit_record(
        actor=user,
        action="api_token.create",
        organisation_id=organisation.pk,
        target=token,
        changes={
            "name": name,
            "prefix": new.prefix,
            "scope": scope,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "projects": [p.slug for p in project_list],
        },
    )
    return token, new.token


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None, actor_kind: ActorKind | None = None) -> ApiToken:
    token = ApiToken.objects.select_for_update().select_related("organisation").get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="api_token.revoke",
            organisation_id=token.organisation.pk,
            target=token,
            changes={"prefix": token.prefix, "name": token.name},
            actor_kind=actor_kind,
        )
    return token


def api_token_touch(*, token: ApiToken, ip: str | None) -> None:
    """Record last use, at most once per ``TOKEN_TOUCH_INTERVAL`` (a conditional UPDATE, no read).

    Not audited: usage is not a change to the account, and one event per
    request would drown the trail (the request log has the detail).
    """
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < TOKEN_TOUCH_INTERVAL:
        return
    ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gt=now - TOKEN_TOUCH_INTERVAL).update(
        last_used_at=now, last_used_ip=ip
    )
