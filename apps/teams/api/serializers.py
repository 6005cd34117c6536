"""Teams API serializers: input ones validate shape, output ones render rows. No logic here."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import IdField, LabelsField
from apps.core.api.queries import ListQuerySerializer, multiple_choice
from apps.core.choices import ActorKind
from apps.teams.access import role_in
from apps.teams.choices import InvitationStatus, ProjectAccess, Role, TokenScope
from apps.teams.models import ApiToken, Invitation, Membership, Organisation, Project


class UserSummaryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()


# -- organisations ----------------------------------------------------------
class OrganisationOutputSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text=_("Your role; null when you reach it through a project grant."))
    suspended = serializers.BooleanField(source="is_suspended")

    class Meta:
        model = Organisation
        fields = [
            "id",
            "name",
            "slug",
            "legal_name",
            "country",
            "vat_id",
            "billing_email",
            "is_personal",
            "require_mfa",
            "role",
            "suspended",
            "suspension_reason",
            "created_at",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices, allow_null=True))
    def get_role(self, obj: Organisation) -> str | None:
        roles: dict[int, str] | None = self.context.get("roles")
        if roles is not None:
            return roles.get(obj.pk)
        return role_in(self.context["request"].user, obj)


class OrganisationUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    require_mfa = serializers.BooleanField(required=False)
    legal_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, help_text=_("ISO 3166 alpha-2."))
    vat_id = serializers.CharField(max_length=32, required=False, allow_blank=True)
    billing_email = serializers.EmailField(required=False, allow_blank=True)


class OrganisationListQuerySerializer(ListQuerySerializer):
    lookups = {"name": "name", "slug": "slug"}
    sort_fields = {"name": "name", "created_at": "created_at"}

    name = serializers.CharField(required=False, max_length=100, help_text=_("Exact name."))
    slug = serializers.CharField(required=False, max_length=100, help_text=_("Exact slug."))


class OwnershipTransferInputSerializer(serializers.Serializer):
    user_id = IdField(help_text=_("The member who becomes owner; you become admin."))


# -- members ------------------------------------------------------------------
class MemberOutputSerializer(serializers.ModelSerializer):
    user = UserSummaryOutputSerializer()

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "created_at"]


class MemberListQuerySerializer(ListQuerySerializer):
    lookups = {"role": "role__in", "email": "user__email__iexact"}
    sort_fields = {"email": "user__email", "role": "role", "created_at": "created_at"}

    role = multiple_choice(Role.choices, help_text=_("Only members with this role; repeat for several."))
    email = serializers.EmailField(required=False, help_text=_("Exact e-mail address (any case)."))


class MemberUpdateInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


# -- invitations ----------------------------------------------------------------
class InvitationOutputSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(source="effective_status", choices=InvitationStatus.choices)
    invited_by = serializers.EmailField(source="invited_by.email", allow_null=True, default=None)
    project: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "project", "status", "invited_by", "expires_at", "created_at"]


class InvitationCreateInputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)
    project = IdField(
        required=False, allow_null=True, help_text=_("Limit access to this project (member or viewer role).")
    )


class InvitationListQuerySerializer(ListQuerySerializer):
    # ``status`` is the effective status (a pending invitation past its expiry is expired): the view reads it.
    lookups = {"role": "role__in", "email": "email__iexact", "project": "project_id"}
    sort_fields = {"created_at": "created_at", "expires_at": "expires_at", "email": "email"}

    status = multiple_choice(InvitationStatus.choices, help_text=_("Only invitations in this status."))
    role = multiple_choice(Role.choices, help_text=_("Only invitations for this role."))
    email = serializers.EmailField(required=False, help_text=_("Exact e-mail address (any case)."))
    project = IdField(required=False, help_text=_("Only invitations limited to this project."))


class InvitationTokenInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=100, help_text=_("The token from the invitation link."))


class InvitationResponseOutputSerializer(serializers.Serializer):
    organisation = serializers.IntegerField(source="organisation_id")
    status = serializers.ChoiceField(choices=InvitationStatus.choices)


# -- projects -------------------------------------------------------------------
class ProjectOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "slug", "description", "is_default", "labels", "created_at"]


class ProjectCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    labels = LabelsField(required=False)


class ProjectUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    labels = LabelsField(required=False)


class ProjectListQuerySerializer(ListQuerySerializer):
    lookups = {"name": "name", "slug": "slug", "is_default": "is_default"}
    sort_fields = {"name": "name", "created_at": "created_at"}
    label_field = "labels"

    name = serializers.CharField(required=False, max_length=100, help_text=_("Exact name."))
    slug = serializers.CharField(required=False, max_length=60, help_text=_("Exact slug."))
    is_default = serializers.BooleanField(required=False, help_text=_("Only the default project (true) or the others."))


class ProjectGrantOutputSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    email = serializers.EmailField()
    access = serializers.ChoiceField(choices=ProjectAccess.choices)


class ProjectGrantInputSerializer(serializers.Serializer):
    email = serializers.EmailField(
        help_text=_(
            "A member of the organisation is granted at once; anyone else receives an invitation to accept "
            "(whether or not they have an account)."
        )
    )
    access = serializers.ChoiceField(choices=ProjectAccess.choices)


class ProjectGrantInvitationOutputSerializer(serializers.Serializer):
    """The answer for someone outside the organisation: the same whether or not the address has an account."""

    invitation = serializers.IntegerField(source="invitation.pk", help_text=_("The project invitation's id."))
    email = serializers.EmailField(source="invitation.email")
    access = serializers.ChoiceField(choices=ProjectAccess.choices)
    status = serializers.ChoiceField(source="invitation.effective_status", choices=InvitationStatus.choices)
    expires_at = serializers.DateTimeField(source="invitation.expires_at")


# -- tokens ---------------------------------------------------------------------
class ApiTokenOutputSerializer(serializers.ModelSerializer):
    organisation: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)
    projects: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    active = serializers.BooleanField(source="is_active")

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "organisation",
            "scope",
            "projects",
            "expires_at",
            "last_used_at",
            "last_used_ip",
            "revoked_at",
            "active",
            "created_at",
        ]


class ApiTokenCreateOutputSerializer(ApiTokenOutputSerializer):
    token = serializers.SerializerMethodField(help_text=_("The secret: shown in this response only. Store it now."))

    class Meta(ApiTokenOutputSerializer.Meta):
        fields = [*ApiTokenOutputSerializer.Meta.fields, "token"]

    def get_token(self, obj: ApiToken) -> str:
        return str(self.context["token"])


class ApiTokenListQuerySerializer(ListQuerySerializer):
    lookups = {"scope": "scope__in", "name": "name"}
    sort_fields = {
        "created_at": "created_at",
        "name": "name",
        "last_used_at": "last_used_at",
        "expires_at": "expires_at",
    }

    organisation = IdField(required=False, help_text=_("Only this organisation's tokens (404 if not yours)."))
    scope = multiple_choice(TokenScope.choices, help_text=_("Only tokens with this scope."))
    name = serializers.CharField(required=False, max_length=100, help_text=_("Exact name."))
    active = serializers.BooleanField(
        required=False, help_text=_("Only usable tokens (true) or only revoked and expired ones (false).")
    )


class ApiTokenCreateInputSerializer(serializers.Serializer):
    organisation = IdField()
    name = serializers.CharField(max_length=100)
    scope = serializers.ChoiceField(choices=TokenScope.choices, default=TokenScope.READ_ONLY)
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text=_("At most one year away; null never expires.")
    )
    projects: serializers.ListField = serializers.ListField(
        child=IdField(), required=False, default=list, max_length=1000, help_text=_("Empty: every project.")
    )


# -- audit ----------------------------------------------------------------------
class AuditEventOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor_kind = serializers.ChoiceField(choices=ActorKind.choices)
    actor = serializers.CharField(source="actor_label")
    token = serializers.CharField(source="actor_token", help_text=_("Token prefix, when the action used a token."))
    action = serializers.CharField()
    object_type = serializers.SerializerMethodField()
    object_id = serializers.CharField(source="target_id")
    object = serializers.CharField(source="target_repr")
    changes = serializers.JSONField()
    ip = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField()
    request_id = serializers.CharField()

    def get_object_type(self, obj: Any) -> str:
        ct = obj.target_type
        return f"{ct.app_label}.{ct.model}" if ct is not None else ""


class AuditEventFilterInputSerializer(serializers.Serializer):
    action = serializers.CharField(
        required=False, default="", max_length=100, help_text=_("Exact action, or a prefix ending in '.'")
    )
    actor = serializers.CharField(
        required=False, default="", max_length=254, help_text=_("Actor e-mail or token prefix.")
    )
    object_type = serializers.CharField(
        required=False, default="", max_length=100, help_text=_("app_label.model, e.g. teams.project")
    )
    object_id = serializers.CharField(required=False, default="", max_length=64)
    since = serializers.DateTimeField(required=False, default=None, help_text=_("At or after (ISO 8601)."))
    until = serializers.DateTimeField(required=False, default=None, help_text=_("Before (ISO 8601)."))
    format = serializers.ChoiceField(
        choices=[("json", "JSON"), ("csv", "CSV")], required=False, help_text=_("`csv` for a CSV file.")
    )


class AuditEventListQuerySerializer(ListQuerySerializer, AuditEventFilterInputSerializer):
    """The audit list: its filters, ``page`` and ``per_page`` (newest first; no other order)."""
