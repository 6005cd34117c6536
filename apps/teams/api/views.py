"""Teams API views: one thin view per path; each method validates, calls one service or selector, renders.

Access: ``ScopedPermission`` resolves ``view.organisation`` from the URL for
the method's permission (``scope_map``); nested objects are then looked up
inside that organisation only, so another organisation's ids are 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import get_user_model
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.pagination import list_parameters, paginate, paginated
from apps.core.api.queries import list_query, query_validate
from apps.core.errors import NotFound, PermissionDenied
from apps.teams import selectors, services
from apps.teams.access import (
    bound_token,
    organisation_get_for_actor,
    organisation_list_for_actor,
    project_get_for_actor,
    role_in,
)
from apps.teams.api import serializers as s
from apps.teams.api.permissions import ScopedPermission
from apps.teams.audit_export import audit_csv_rows
from apps.teams.choices import Permission
from apps.teams.models import Membership, Organisation

if TYPE_CHECKING:
    from apps.accounts.models import User

P = Permission
ORG_ID = OpenApiParameter("org_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Organisation id.")


class TeamsApiView(APIView):
    permission_classes = [ScopedPermission]
    scope_map: dict[str, Permission] = {}
    organisation: Organisation

    @property
    def user(self) -> User:
        """The authenticated user (ScopedPermission refuses anonymous requests)."""
        return cast("User", self.request.user)


# ---------------------------------------------------------------------------
# Organisations
# ---------------------------------------------------------------------------
class OrganisationListApi(TeamsApiView):
    @extend_schema(
        operation_id="organisations_list",
        tags=["organisations"],
        summary="List your organisations",
        description="Organisations you are a member of, or reach through a project grant (role null). "
        "A token lists its own organisation only. Filter by `name` or `slug`; sort with `sort`.",
        parameters=list_parameters(s.OrganisationListQuerySerializer),
        responses=paginated(s.OrganisationOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, s.OrganisationListQuerySerializer)
        qs = query.apply(organisation_list_for_actor(actor=self.user).order_by("name", "id"))
        roles = dict(Membership.objects.filter(user=self.user).values_list("organisation_id", "role"))
        return paginate(request, self, qs, s.OrganisationOutputSerializer, roles=roles)


class OrganisationDetailApi(TeamsApiView):
    scope_map = {"GET": P.ORG_READ, "PATCH": P.ORG_READ}

    @extend_schema(
        operation_id="organisations_retrieve",
        tags=["organisations"],
        summary="Get an organisation",
        description="Billing details are blank for guests who reach it through a project grant.",
        parameters=[ORG_ID],
        responses=s.OrganisationOutputSerializer,
    )
    def get(self, request: Request, org_id: int) -> Response:
        data = s.OrganisationOutputSerializer(self.organisation, context={"request": request}).data
        if role_in(request.user, self.organisation) is None:
            for field in ("legal_name", "country", "vat_id", "billing_email"):
                data[field] = ""
        return Response(data)

    @extend_schema(
        operation_id="organisations_partial_update",
        tags=["organisations"],
        summary="Update an organisation",
        description="`name` and `require_mfa` need `org.update` (owner, admin); billing details "
        "(`legal_name`, `country`, `vat_id`, `billing_email`) need `billing.manage` (owner, billing). "
        "Switching `require_mfa` on needs MFA on the caller's own account (400 `mfa_not_enrolled`).",
        parameters=[ORG_ID],
        request=s.OrganisationUpdateInputSerializer,
        responses=s.OrganisationOutputSerializer,
        examples=[OpenApiExample("Billing details", value={"legal_name": "Acme SAS", "country": "FR"})],
    )
    def patch(self, request: Request, org_id: int) -> Response:
        if role_in(request.user, self.organisation) is None:
            raise PermissionDenied(_("Your role does not allow this action."))
        data = s.OrganisationUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        org = services.organisation_update(organisation=self.organisation, actor=self.user, data=data.validated_data)
        return Response(s.OrganisationOutputSerializer(org, context={"request": request}).data)


class OrganisationTransferApi(TeamsApiView):
    scope_map = {"POST": P.ORG_TRANSFER}

    @extend_schema(
        operation_id="organisations_transfer_ownership",
        tags=["organisations"],
        summary="Transfer ownership",
        description="Owner only: the member becomes owner and you become admin.",
        parameters=[ORG_ID],
        request=s.OwnershipTransferInputSerializer,
        responses=s.MemberOutputSerializer,
    )
    def post(self, request: Request, org_id: int) -> Response:
        data = s.OwnershipTransferInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new_owner = get_user_model().objects.filter(pk=data.validated_data["user_id"]).first()
        if new_owner is None or role_in(new_owner, self.organisation) is None:
            raise NotFound(_("Member not found."))
        membership = services.ownership_transfer(organisation=self.organisation, new_owner=new_owner, actor=self.user)
        return Response(s.MemberOutputSerializer(membership).data)


class OrganisationLeaveApi(TeamsApiView):
    scope_map = {"POST": P.ORG_READ}

    @extend_schema(
        operation_id="organisations_leave",
        tags=["organisations"],
        summary="Leave an organisation",
        description="Removes your own membership (and revokes your tokens for it). The last owner cannot leave: "
        "409 `last_owner`.",
        parameters=[ORG_ID],
        request=None,
        responses={204: None},
    )
    def post(self, request: Request, org_id: int) -> Response:
        membership = Membership.objects.filter(organisation=self.organisation, user=self.user).first()
        if membership is None:
            raise NotFound(_("You are not a member of this organisation."))
        services.membership_delete(membership=membership, actor=self.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------
# Members
# ---------------------------------------------------------------------------
MEMBER_ID = OpenApiParameter("member_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Membership id.")


class MemberListApi(TeamsApiView):
    scope_map = {"GET": P.MEMBERS_READ}

    @extend_schema(
        operation_id="members_list",
        tags=["members"],
        summary="List members",
        description="By e-mail. Filter by `role` and `email`; sort with `sort`.",
        parameters=list_parameters(s.MemberListQuerySerializer, ORG_ID),
        responses=paginated(s.MemberOutputSerializer),
    )
    def get(self, request: Request, org_id: int) -> Response:
        query = list_query(request, s.MemberListQuerySerializer)
        qs = query.apply(selectors.member_list(organisation=self.organisation))
        return paginate(request, self, qs, s.MemberOutputSerializer)


class MemberDetailApi(TeamsApiView):
    scope_map = {"GET": P.MEMBERS_READ, "PATCH": P.MEMBERS_MANAGE, "DELETE": P.MEMBERS_MANAGE}

    @extend_schema(
        operation_id="members_retrieve",
        tags=["members"],
        summary="Get a member",
        parameters=[ORG_ID, MEMBER_ID],
        responses=s.MemberOutputSerializer,
    )
    def get(self, request: Request, org_id: int, member_id: int) -> Response:
        membership = selectors.member_get(organisation=self.organisation, membership_id=member_id)
        return Response(s.MemberOutputSerializer(membership).data)

    @extend_schema(
        operation_id="members_partial_update",
        tags=["members"],
        summary="Change a member's role",
        description="Only owners appoint or demote owners; the last owner cannot be demoted (409 `last_owner`).",
        parameters=[ORG_ID, MEMBER_ID],
        request=s.MemberUpdateInputSerializer,
        responses=s.MemberOutputSerializer,
        examples=[OpenApiExample("Make admin", value={"role": "admin"})],
    )
    def patch(self, request: Request, org_id: int, member_id: int) -> Response:
        membership = selectors.member_get(organisation=self.organisation, membership_id=member_id)
        data = s.MemberUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_update_role(
            membership=membership, role=data.validated_data["role"], actor=self.user
        )
        return Response(s.MemberOutputSerializer(membership).data)

    @extend_schema(
        operation_id="members_destroy",
        tags=["members"],
        summary="Remove a member",
        description="Their tokens for this organisation are revoked. The last owner cannot be removed.",
        parameters=[ORG_ID, MEMBER_ID],
        responses={204: None},
    )
    def delete(self, request: Request, org_id: int, member_id: int) -> Response:
        membership = selectors.member_get(organisation=self.organisation, membership_id=member_id)
        services.membership_delete(membership=membership, actor=self.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------
# Invitations
# ---------------------------------------------------------------------------
INVITATION_ID = OpenApiParameter("invitation_id", OpenApiTypes.INT, OpenApiParameter.PATH)


class InvitationListApi(TeamsApiView):
    scope_map = {"GET": P.MEMBERS_READ, "POST": P.MEMBERS_MANAGE}

    @extend_schema(
        operation_id="invitations_list",
        tags=["invitations"],
        summary="List invitations",
        description="Filter by `status` (a pending invitation past its expiry is `expired`), `role`, `email` "
        "and `project`; sort with `sort`.",
        parameters=list_parameters(s.InvitationListQuerySerializer, ORG_ID),
        responses=paginated(s.InvitationOutputSerializer),
    )
    def get(self, request: Request, org_id: int) -> Response:
        query = list_query(request, s.InvitationListQuerySerializer)
        qs = query.apply(selectors.invitation_list(organisation=self.organisation, statuses=query.get("status")))
        return paginate(request, self, qs, s.InvitationOutputSerializer)

    @extend_schema(
        operation_id="invitations_create",
        tags=["invitations"],
        summary="Invite someone",
        description="Sends an e-mail with a link valid 7 days. With `project`, access is limited to that project "
        "(role member = operate, viewer = read).",
        parameters=[ORG_ID],
        request=s.InvitationCreateInputSerializer,
        responses={201: s.InvitationOutputSerializer},
        examples=[OpenApiExample("Invite a member", value={"email": "jo@example.com", "role": "member"})],
    )
    def post(self, request: Request, org_id: int) -> Response:
        data = s.InvitationCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = None
        if data.validated_data.get("project"):
            project = project_get_for_actor(
                actor=self.user, organisation=self.organisation, project_id=data.validated_data["project"]
            )
        invitation, _token = services.invitation_create(
            organisation=self.organisation,
            email=data.validated_data["email"],
            role=data.validated_data["role"],
            project=project,
            actor=self.user,
        )
        return Response(s.InvitationOutputSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetailApi(TeamsApiView):
    scope_map = {"GET": P.MEMBERS_READ, "DELETE": P.MEMBERS_MANAGE}

    @extend_schema(
        operation_id="invitations_retrieve",
        tags=["invitations"],
        summary="Get an invitation",
        parameters=[ORG_ID, INVITATION_ID],
        responses=s.InvitationOutputSerializer,
    )
    def get(self, request: Request, org_id: int, invitation_id: int) -> Response:
        invitation = selectors.invitation_get(organisation=self.organisation, invitation_id=invitation_id)
        return Response(s.InvitationOutputSerializer(invitation).data)

    @extend_schema(
        operation_id="invitations_revoke",
        tags=["invitations"],
        summary="Revoke an invitation",
        description="The link stops working. 409 `invitation_not_pending` if already answered.",
        parameters=[ORG_ID, INVITATION_ID],
        responses={204: None},
    )
    def delete(self, request: Request, org_id: int, invitation_id: int) -> Response:
        invitation = selectors.invitation_get(organisation=self.organisation, invitation_id=invitation_id)
        services.invitation_revoke(invitation=invitation, actor=self.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationAcceptApi(TeamsApiView):
    @extend_schema(
        operation_id="invitations_accept",
        tags=["invitations"],
        summary="Accept an invitation",
        description="Signed in with the invited e-mail address (403 `invitation_email_mismatch` otherwise). "
        "Expired, revoked or answered invitations are 409.",
        request=s.InvitationTokenInputSerializer,
        responses=s.InvitationResponseOutputSerializer,
    )
    def post(self, request: Request) -> Response:
        if bound_token(request.user) is not None:
            raise PermissionDenied(_("Accept invitations from a signed-in session, not with a token."))
        data = s.InvitationTokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invitation_accept(token=data.validated_data["token"], user=self.user)
        return Response(s.InvitationResponseOutputSerializer(invitation).data)


class InvitationDeclineApi(TeamsApiView):
    @extend_schema(
        operation_id="invitations_decline",
        tags=["invitations"],
        summary="Decline an invitation",
        request=s.InvitationTokenInputSerializer,
        responses=s.InvitationResponseOutputSerializer,
    )
    def post(self, request: Request) -> Response:
        if bound_token(request.user) is not None:
            raise PermissionDenied(_("Decline invitations from a signed-in session, not with a token."))
        data = s.InvitationTokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invitation_decline(token=data.validated_data["token"], actor=self.user)
        return Response(s.InvitationResponseOutputSerializer(invitation).data)


# ---------------------------------------------------------------------------
# Projects and project grants
# ---------------------------------------------------------------------------
PROJECT_ID = OpenApiParameter("project_id", OpenApiTypes.INT, OpenApiParameter.PATH)
USER_ID = OpenApiParameter("user_id", OpenApiTypes.INT, OpenApiParameter.PATH)


class ProjectListApi(TeamsApiView):
    # Guests with a project grant list their granted projects: ORG_READ here,
    # the selector narrows to what they may see.
    scope_map = {"GET": P.ORG_READ, "POST": P.PROJECTS_MANAGE}

    @extend_schema(
        operation_id="projects_list",
        tags=["projects"],
        summary="List projects",
        description="Filter by `name`, `slug`, `is_default` and `label_selector`; sort with `sort`.",
        parameters=list_parameters(s.ProjectListQuerySerializer, ORG_ID),
        responses=paginated(s.ProjectOutputSerializer),
    )
    def get(self, request: Request, org_id: int) -> Response:
        query = list_query(request, s.ProjectListQuerySerializer)
        qs = query.apply(selectors.project_list(actor=self.user, organisation=self.organisation))
        return paginate(request, self, qs, s.ProjectOutputSerializer)

    @extend_schema(
        operation_id="projects_create",
        tags=["projects"],
        summary="Create a project",
        parameters=[ORG_ID],
        request=s.ProjectCreateInputSerializer,
        responses={201: s.ProjectOutputSerializer},
        examples=[OpenApiExample("Create", value={"name": "Staging", "description": "Pre-production"})],
    )
    def post(self, request: Request, org_id: int) -> Response:
        data = s.ProjectCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.project_create(organisation=self.organisation, actor=self.user, **data.validated_data)
        return Response(s.ProjectOutputSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(TeamsApiView):
    scope_map = {"GET": P.ORG_READ, "PATCH": P.ORG_READ, "DELETE": P.ORG_READ}

    def _project(self, project_id: int, permission: Permission) -> Any:
        return project_get_for_actor(
            actor=self.request.user, organisation=self.organisation, project_id=project_id, permission=permission
        )

    @extend_schema(
        operation_id="projects_retrieve",
        tags=["projects"],
        summary="Get a project",
        parameters=[ORG_ID, PROJECT_ID],
        responses=s.ProjectOutputSerializer,
    )
    def get(self, request: Request, org_id: int, project_id: int) -> Response:
        return Response(s.ProjectOutputSerializer(self._project(project_id, P.PROJECTS_READ)).data)

    @extend_schema(
        operation_id="projects_partial_update",
        tags=["projects"],
        summary="Rename, describe or relabel a project",
        description="Change `name`, `description` or `labels` (replaced whole).",
        parameters=[ORG_ID, PROJECT_ID],
        request=s.ProjectUpdateInputSerializer,
        responses=s.ProjectOutputSerializer,
    )
    def patch(self, request: Request, org_id: int, project_id: int) -> Response:
        project = self._project(project_id, P.PROJECTS_MANAGE)
        data = s.ProjectUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.project_update(project=project, actor=self.user, **data.validated_data)
        return Response(s.ProjectOutputSerializer(project).data)

    @extend_schema(
        operation_id="projects_destroy",
        tags=["projects"],
        summary="Delete a project",
        description="Only an empty, non-default project (409 `project_is_default` / `project_not_empty`).",
        parameters=[ORG_ID, PROJECT_ID],
        responses={204: None},
    )
    def delete(self, request: Request, org_id: int, project_id: int) -> Response:
        services.project_delete(project=self._project(project_id, P.PROJECTS_MANAGE), actor=self.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectGrantListApi(TeamsApiView):
    scope_map = {"GET": P.PROJECTS_MANAGE, "POST": P.PROJECTS_MANAGE}

    @extend_schema(
        operation_id="project_grants_list",
        tags=["projects"],
        summary="List project grants",
        description="People with access to this project only (e.g. contractors).",
        parameters=[ORG_ID, PROJECT_ID],
        responses=s.ProjectGrantOutputSerializer(many=True),
    )
    def get(self, request: Request, org_id: int, project_id: int) -> Response:
        project = project_get_for_actor(actor=self.user, organisation=self.organisation, project_id=project_id)
        grants = selectors.project_grant_list(project=project)
        return Response(s.ProjectGrantOutputSerializer(grants, many=True).data)

    @extend_schema(
        operation_id="project_grants_set",
        tags=["projects"],
        summary="Grant access to this project",
        description="A member of the organisation, or someone who already has access to this project, is "
        "granted at once (201; replaces any previous access level). Anyone else gets a project invitation to "
        "accept (202), and the answer is the same whether or not the address has an account. 409 "
        "`invitation_pending` when that address already has a pending invitation to the organisation.",
        parameters=[ORG_ID, PROJECT_ID],
        request=s.ProjectGrantInputSerializer,
        responses={
            201: OpenApiResponse(s.ProjectGrantOutputSerializer, description="Granted (a member)."),
            202: OpenApiResponse(s.ProjectGrantInvitationOutputSerializer, description="Invitation sent."),
        },
        examples=[OpenApiExample("Contractor", value={"email": "dev@contractor.example", "access": "write"})],
    )
    def post(self, request: Request, org_id: int, project_id: int) -> Response:
        project = project_get_for_actor(actor=self.user, organisation=self.organisation, project_id=project_id)
        data = s.ProjectGrantInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        offer = services.project_grant_offer(project=project, actor=self.user, **data.validated_data)
        if offer.user is None:
            return Response(s.ProjectGrantInvitationOutputSerializer(offer).data, status=status.HTTP_202_ACCEPTED)
        grant = selectors.ProjectGrant(offer.user.pk, offer.user.email, offer.access)
        return Response(s.ProjectGrantOutputSerializer(grant).data, status=status.HTTP_201_CREATED)


class ProjectGrantDetailApi(TeamsApiView):
    scope_map = {"DELETE": P.PROJECTS_MANAGE}

    @extend_schema(
        operation_id="project_grants_destroy",
        tags=["projects"],
        summary="Remove a project grant",
        parameters=[ORG_ID, PROJECT_ID, USER_ID],
        responses={204: None},
    )
    def delete(self, request: Request, org_id: int, project_id: int, user_id: int) -> Response:
        project = project_get_for_actor(actor=self.user, organisation=self.organisation, project_id=project_id)
        grant = next((g for g in selectors.project_grant_list(project=project) if g.user_id == user_id), None)
        if grant is None:
            raise NotFound(_("Grant not found."))
        user = get_user_model().objects.get(pk=user_id)
        services.project_grant_delete(project=project, user=user, actor=self.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------
# API tokens (your own)
# ---------------------------------------------------------------------------
TOKEN_ID = OpenApiParameter("token_id", OpenApiTypes.INT, OpenApiParameter.PATH)


class _SessionOnly(TeamsApiView):
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if bound_token(request.user) is not None:
            raise PermissionDenied(_("Tokens cannot manage tokens: sign in to the portal."), code="token_not_allowed")


class ApiTokenListApi(_SessionOnly):
    @extend_schema(
        operation_id="tokens_list",
        tags=["tokens"],
        summary="List your API tokens",
        description="Your own tokens, all organisations. Secrets are never returned again. Filter by "
        "`organisation`, `scope`, `name` and `active`; sort with `sort`.",
        parameters=list_parameters(s.ApiTokenListQuerySerializer),
        responses=paginated(s.ApiTokenOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, s.ApiTokenListQuerySerializer)
        organisation = None
        if "organisation" in query:
            organisation = organisation_get_for_actor(actor=self.user, org_slug_or_id=query.get("organisation"))
        qs = query.apply(
            selectors.api_token_list(user=self.user, organisation=organisation, active=query.get("active"))
        )
        return paginate(request, self, qs, s.ApiTokenOutputSerializer)

    @extend_schema(
        operation_id="tokens_create",
        tags=["tokens"],
        summary="Create an API token",
        description="Returns the secret once in `token`. Effective rights: your role ∩ scope ∩ projects.",
        request=s.ApiTokenCreateInputSerializer,
        responses={201: s.ApiTokenCreateOutputSerializer},
        examples=[
            OpenApiExample(
                "Read-only CI token",
                value={"organisation": 1, "name": "CI", "scope": "read_only", "expires_at": "2026-12-31T00:00:00Z"},
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = s.ApiTokenCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        organisation = organisation_get_for_actor(
            actor=self.user, org_slug_or_id=v["organisation"], permission=P.TOKENS_MANAGE_OWN
        )
        projects = [
            project_get_for_actor(actor=self.user, organisation=organisation, project_id=pid)
            for pid in dict.fromkeys(v["projects"])
        ]
        token, secret = services.api_token_create(
            user=self.user,
            organisation=organisation,
            name=v["name"],
            scope=v["scope"],
            expires_at=v["expires_at"],
            projects=projects,
        )
        out = s.ApiTokenCreateOutputSerializer(token, context={"token": secret})
        return Response(out.data, status=status.HTTP_201_CREATED)


class ApiTokenDetailApi(_SessionOnly):
    @extend_schema(
        operation_id="tokens_retrieve",
        tags=["tokens"],
        summary="Get one of your API tokens",
        parameters=[TOKEN_ID],
        responses=s.ApiTokenOutputSerializer,
    )
    def get(self, request: Request, token_id: int) -> Response:
        return Response(s.ApiTokenOutputSerializer(selectors.api_token_get(user=self.user, token_id=token_id)).data)

    @extend_schema(
        operation_id="tokens_revoke",
        tags=["tokens"],
        summary="Revoke one of your API tokens",
        description="Takes effect at once: the next request with it gets 401.",
        parameters=[TOKEN_ID],
        responses={204: None},
    )
    def delete(self, request: Request, token_id: int) -> Response:
        services.api_token_revoke(token=selectors.api_token_get(user=self.user, token_id=token_id), actor=self.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------
# Audit events
# ---------------------------------------------------------------------------
class CsvRenderer(BaseRenderer):
    """Lets ``?format=csv`` negotiate; the view streams the CSV itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return b"" if data is None else str(data).encode()


def _csv_response(events: Any, organisation: Organisation) -> StreamingHttpResponse:
    response = StreamingHttpResponse(audit_csv_rows(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{organisation.slug}.csv"'
    return response


class AuditEventListApi(TeamsApiView):
    scope_map = {"GET": P.AUDIT_READ}
    renderer_classes = [JSONRenderer, CsvRenderer]

    def handle_exception(self, exc: Exception) -> Response:
        # Errors leave in the one JSON error body even when CSV was negotiated
        # (apps/docs/content/api-overview.md, "Errors"); the CSV renderer would
        # print the error dict's repr as text/csv.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    query_serializer: type[s.AuditEventFilterInputSerializer] = s.AuditEventListQuerySerializer

    def events(self) -> Any:
        # Strict: an unknown parameter or an empty value (``?until=``) is a 400 (apps.core.api.queries).
        v = query_validate(self.request, self.query_serializer)
        filters = selectors.AuditFilters(
            action=v["action"],
            actor=v["actor"],
            target_type=v["object_type"],
            target_id=v["object_id"],
            since=v["since"],
            until=v["until"],
        )
        return selectors.audit_event_list_for_organisation(organisation=self.organisation, filters=filters)

    @extend_schema(
        operation_id="audit_events_list",
        tags=["audit"],
        summary="List audit events",
        description="Newest first; owners and admins. Add `format=csv` (or use `audit-events.csv`) for CSV.",
        parameters=list_parameters(s.AuditEventListQuerySerializer, ORG_ID),
        responses=paginated(s.AuditEventOutputSerializer),
    )
    def get(self, request: Request, org_id: int, format: str | None = None) -> Any:
        events = self.events()
        if request.accepted_renderer.format == "csv":
            return _csv_response(events, self.organisation)
        return paginate(request, self, events, s.AuditEventOutputSerializer)


class AuditEventCsvApi(AuditEventListApi):
    query_serializer = s.AuditEventFilterInputSerializer

    @extend_schema(
        operation_id="audit_events_csv",
        tags=["audit"],
        summary="Export audit events as CSV",
        description="Same filters as the list; every matching event, streamed.",
        parameters=[ORG_ID, s.AuditEventFilterInputSerializer],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, one event per row.")},
    )
    def get(self, request: Request, org_id: int, format: str | None = None) -> Any:
        return _csv_response(self.events(), self.organisation)
