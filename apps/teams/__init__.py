"""Teams: organisations, projects, memberships and roles, invitations, API tokens and RBAC.

Owns the customer account (``Organisation``, the billing entity), its
``Project`` s (which hold resources), ``Membership`` (one role per user and
organisation), ``Invitation`` and ``ApiToken``.

Offers every higher app the one permission layer (``apps.teams.access``):
``Permission``, ``ROLE_PERMISSIONS``, ``actor_has_permission``,
``organisation_get_for_actor``, ``project_list_for_actor``,
``restrict_to_actor`` and the DRF pieces (``apps.teams.api.permissions``,
``apps.teams.api.authentication``), so the API, the portal and the admin
decide access the same way.
"""
