"""Teams writes: organisations, memberships, invitations, projects, grants and API tokens.

Every function is keyword-only, runs in one ``transaction.atomic`` block and
records an audit event (with the organisation id) in that same transaction.
``actor`` is the acting user (maybe through an API token bound by the API
authentication, see ``access.bind_token``) or None for the system.
Services enforce the invariants (the last owner stays, only owners appoint
owners, a token never exceeds its holder); interfaces check the coarse
permission first through ``apps.teams.access``.

One module per topic (``docs/dev/style.md#app-shape``), every public service
re-exported here, so callers write ``from apps.teams import services`` then
``services.organisation_create(...)``:

* ``organisations``: create (owner and default project), the personal organisation, settings, suspension;
* ``memberships``: add a member, change a role, remove or leave, transfer ownership;
* ``invitations``: invite to an organisation or one project, accept, decline, revoke;
  ``project_grant_offer`` (grant at once, or invite);
* ``projects``: create, update, delete or archive, and project grants (set, remove);
* ``api_tokens``: personal access tokens (create, revoke, last use).
"""

from apps.teams.services.api_tokens import (
    TOKEN_MAX_LIFETIME,
    TOKEN_TOUCH_INTERVAL,
    api_token_create,
    api_token_revoke,
    api_token_touch,
)
from apps.teams.services.invitations import (
    INVITATION_TTL,
    GrantOffer,
    invitation_accept,
    invitation_create,
    invitation_decline,
    invitation_revoke,
    project_grant_offer,
)
from apps.teams.services.memberships import (
    membership_create,
    membership_delete,
    membership_update_role,
    ownership_transfer,
)
from apps.teams.services.organisations import (
    RESERVED_ORGANISATION_SLUGS,
    organisation_create,
    organisation_suspend,
    organisation_unsuspend,
    organisation_update,
    personal_organisation_ensure,
)
from apps.teams.services.projects import (
    project_create,
    project_delete,
    project_grant_delete,
    project_grant_set,
    project_update,
)

__all__ = [
    "INVITATION_TTL",
    "RESERVED_ORGANISATION_SLUGS",
    "TOKEN_MAX_LIFETIME",
    "TOKEN_TOUCH_INTERVAL",
    "GrantOffer",
    "api_token_create",
    "api_token_revoke",
    "api_token_touch",
    "invitation_accept",
    "invitation_create",
    "invitation_decline",
    "invitation_revoke",
    "membership_create",
    "membership_delete",
    "membership_update_role",
    "organisation_create",
    "organisation_suspend",
    "organisation_unsuspend",
    "organisation_update",
    "ownership_transfer",
    "personal_organisation_ensure",
    "project_create",
    "project_delete",
    "project_grant_delete",
    "project_grant_offer",
    "project_grant_set",
    "project_update",
]
