"""SSO logins: remember consumed assertion ids (replay protection), purge them, record a login.

``saml_login_record`` creates the membership just in time (the connection's
default role, through ``apps.teams.services``) and audits the login.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import Conflict, ValidationFailed
from apps.core.services import audit_record
from apps.sso.models import SamlAssertionUse, SamlConnection
from apps.teams.models import Membership
from apps.teams.services import membership_create

if TYPE_CHECKING:
    from apps.accounts.models import User

# An assertion without NotOnOrAfter (python3-saml refuses those in strict mode,
# but be safe) is remembered this long.
ASSERTION_MEMORY = dt.timedelta(hours=24)


def saml_assertion_consume(*, connection: SamlConnection, assertion_id: str, expires_at: dt.datetime | None) -> None:
    """Remember a consumed assertion id; a second use raises ``Conflict`` (replay)."""
    if not assertion_id:
        raise ValidationFailed(_("The SAML assertion has no id."), code="saml_assertion_invalid")
    try:
        with transaction.atomic():
            SamlAssertionUse.objects.create(
                connection=connection,
                assertion_id=assertion_id[:255],
                expires_at=expires_at or timezone.now() + ASSERTION_MEMORY,
            )
    except IntegrityError as exc:
        raise Conflict(_("This SAML assertion was already used."), code="saml_assertion_replayed") from exc


def saml_assertions_purge(*, now: dt.datetime | None = None) -> int:
    """Forget assertion ids past their expiry (their signatures are no longer accepted anyway)."""
    deleted, _details = SamlAssertionUse.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted


@transaction.atomic
def saml_login_record(*, connection: SamlConnection, user: User) -> Membership | None:
    """After an SSO login: create the membership just in time (default role) and audit the login.

    Returns the membership when one was created.
    """
    created = None
    if not Membership.objects.filter(organisation_id=connection.organisation_id, user=user).exists():
        # actor None: the system provisions on the IdP's word (teams allows it).
        try:
            created = membership_create(
                organisation=connection.organisation, user=user, role=connection.default_role, actor=None
            )
        except Conflict:  # a simultaneous first login won the race
            created = None
    audit_record(
        actor=user,
        action="sso.login",
        target=connection,
        organisation_id=connection.organisation_id,
        changes={"connection": connection.slug, "member_created": created is not None},
    )
    return created
