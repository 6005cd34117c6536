"""Enumerations of teams: roles, permissions and the one role → permission table.

``ROLE_PERMISSIONS`` is the single source of truth for what each role may do.
The API, the portal, the admin and the published docs table
(``apps/docs/content/roles-and-permissions.md``, checked by a test) all read it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """A member's role in an organisation, highest first."""

    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    BILLING = "billing", _("Billing")
    MEMBER = "member", _("Member")
    VIEWER = "viewer", _("Viewer")


class Permission(models.TextChoices):
    """What an actor may do inside one organisation. Values are stable API strings."""

    ORG_READ = "org.read", _("See the organisation and its settings")
    ORG_UPDATE = "org.update", _("Rename the organisation, require MFA of its members")
    ORG_TRANSFER = "org.transfer", _("Transfer ownership and appoint owners")
    MEMBERS_READ = "members.read", _("See members and invitations")
    MEMBERS_MANAGE = "members.manage", _("Invite, remove members and change roles")
    BILLING_READ = "billing.read", _("See invoices, payment methods and usage")
    BILLING_MANAGE = "billing.manage", _("Change billing details (legal name, VAT id), payment methods, pay invoices")
    PROJECTS_READ = "projects.read", _("See projects")
    PROJECTS_MANAGE = "projects.manage", _("Create, rename and delete projects, grant project access")
    RESOURCES_READ = "resources.read", _("See servers, volumes and other resources")
    RESOURCES_WRITE = "resources.write", _("Order, start, stop, resize and delete resources")
    TOKENS_MANAGE_OWN = "tokens.manage_own", _("Create and revoke one's own API tokens")
    AUDIT_READ = "audit.read", _("Read and export the audit log")


P = Permission

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset(
        {
            P.ORG_READ,
            P.ORG_UPDATE,
            P.MEMBERS_READ,
            P.MEMBERS_MANAGE,
            P.BILLING_READ,
            P.PROJECTS_READ,
            P.PROJECTS_MANAGE,
            P.RESOURCES_READ,
            P.RESOURCES_WRITE,
            P.TOKENS_MANAGE_OWN,
            P.AUDIT_READ,
        }
    ),
    Role.BILLING: frozenset(
        {
            P.ORG_READ,
            P.MEMBERS_READ,
            P.BILLING_READ,
            P.BILLING_MANAGE,
            P.PROJECTS_READ,
            P.RESOURCES_READ,
            P.TOKENS_MANAGE_OWN,
        }
    ),
    Role.MEMBER: frozenset(
        {P.ORG_READ, P.MEMBERS_READ, P.PROJECTS_READ, P.RESOURCES_READ, P.RESOURCES_WRITE, P.TOKENS_MANAGE_OWN}
    ),
    Role.VIEWER: frozenset({P.ORG_READ, P.MEMBERS_READ, P.PROJECTS_READ, P.RESOURCES_READ, P.TOKENS_MANAGE_OWN}),
}

# Permissions that only read. A read-only token, and a viewer, never get more.
READ_PERMISSIONS: frozenset[Permission] = frozenset(
    {P.ORG_READ, P.MEMBERS_READ, P.BILLING_READ, P.PROJECTS_READ, P.RESOURCES_READ, P.AUDIT_READ}
)

# What a token limited to some projects keeps: it acts on resources of those
# projects only, never on the organisation as a whole (members, billing, audit).
PROJECT_LIMITED_TOKEN_PERMISSIONS: frozenset[Permission] = frozenset(
    {P.ORG_READ, P.PROJECTS_READ, P.RESOURCES_READ, P.RESOURCES_WRITE}
)

# Tokens never manage tokens: a leaked token must not be able to mint a
# longer-lived one (GitHub's fine-grained tokens have the same rule).
TOKEN_EXCLUDED_PERMISSIONS: frozenset[Permission] = frozenset({P.TOKENS_MANAGE_OWN})


class ProjectAccess(models.TextChoices):
    """A grant on one project (or one resource) to someone who is not a member.

    Stored as django-guardian object permissions (codenames ``read_resources`` and
    ``write_resources`` on the object), e.g. a contractor on one project only.
    """

    READ = "read", _("Read resources")
    WRITE = "write", _("Operate resources")


GRANT_PERMISSIONS: dict[str, frozenset[Permission]] = {
    # Project grants make the organisation visible by name only (ORG_READ) and
    # the project itself; nothing organisation-wide.
    ProjectAccess.READ: frozenset({P.ORG_READ, P.PROJECTS_READ, P.RESOURCES_READ}),
    ProjectAccess.WRITE: frozenset({P.ORG_READ, P.PROJECTS_READ, P.RESOURCES_READ, P.RESOURCES_WRITE}),
}
# The guardian codename that stores each access level (see Project.Meta.permissions).
GRANT_CODENAMES: dict[str, str] = {ProjectAccess.READ: "read_resources", ProjectAccess.WRITE: "write_resources"}


class TokenScope(models.TextChoices):
    READ_ONLY = "read_only", _("Read only")
    READ_WRITE = "read_write", _("Read and write")


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


# ISO 3166-1 alpha-2 codes (officially assigned), for Organisation.country.
_ISO_COUNTRIES = (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY "
    "BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK "
    "FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR "
    "IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK "
    "ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
    "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF "
    "TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW "
)
ISO_COUNTRY_CODES: frozenset[str] = frozenset(_ISO_COUNTRIES.split())
