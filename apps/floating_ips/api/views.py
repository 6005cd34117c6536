"""Floating IPs API views: one thin view per operation (input serializer → service/selector → output).

Floating IPs are found through the teams layer: another organisation's id is a
404; reading needs ``resources.read``, any write ``resources.write`` (403 for a
viewer). Assign, unassign and delete answer 202 with an Action, to poll at
``/actions/{id}/`` or ``/floating_ips/{id}/actions/``.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalogue.models import Datacentre
from apps.core.api.pagination import list_parameters, paginate, paginated
from apps.core.api.queries import list_query
from apps.core.errors import ValidationFailed
from apps.floating_ips import selectors, services
from apps.floating_ips.api import serializers as s
from apps.instances.api.resource_views import (
    ResourceActionListApi,
    ResourceApiView,
    ResourceDetailApi,
    accepted,
)
from apps.instances.api.serializers import ActionOutputSerializer
from apps.instances.selectors import instance_get
from apps.teams.access import organisation_get_for_actor, project_get_for_actor
from apps.teams.choices import Permission

P = Permission
ID = OpenApiParameter("floating_ip_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Floating IP id.")
ERRORS = {400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT}
TAG = ["floating_ips"]


class FloatingIpsApiView(ResourceApiView):
    lookup_kwarg = "floating_ip_id"
    getter = selectors.floating_ip_get
    output_serializer = s.FloatingIpOutputSerializer


class FloatingIpListApi(FloatingIpsApiView):
    @extend_schema(
        operation_id="floating_ips_list",
        tags=TAG,
        summary="List floating IPs",
        description="Every floating IP you can see, newest first; released ones are left out. Filter by "
        "`status`, `organisation`, `project`, `datacentre`, `server`, `name`, `address` and `label_selector`; "
        "sort with `sort`. An unknown parameter is a 400. Paginated (`page`, `per_page`).",
        parameters=list_parameters(s.FloatingIpListQuerySerializer),
        responses=paginated(s.FloatingIpOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, s.FloatingIpListQuerySerializer)
        qs = selectors.floating_ip_list(actor=request.user, where=query.filter_q(), order_by=query.ordering())
        return paginate(request, self, qs, s.FloatingIpOutputSerializer)

    @extend_schema(
        operation_id="floating_ips_create",
        tags=TAG,
        summary="Reserve a floating IP",
        description="Reserves an IPv4 address of the datacentre's pool, yours until you release it (billed "
        "hourly at the add-on price, capped monthly). Give `datacentre`, or `server_id` to assign it to that server "
        "at once (then the `assign` Action is returned too). 409 `quota_exceeded` past the organisation's "
        "floating IP quota, 409 `no_address_available` when the datacentre's pool is full.",
        request=s.FloatingIpCreateInputSerializer,
        responses={201: s.FloatingIpCreateOutputSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = s.FloatingIpCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        server = None
        if v.get("server_id"):
            server = instance_get(actor=request.user, public_id=v["server_id"], permission=P.RESOURCES_WRITE)
        if "organisation_id" in v:
            organisation = organisation_get_for_actor(
                actor=request.user, org_slug_or_id=v["organisation_id"], permission=P.RESOURCES_WRITE
            )
        elif server is not None:
            organisation = server.organisation
        else:
            raise ValidationFailed(
                _("Invalid request."), fields={"organisation_id": [_("Give the organisation, or a server.")]}
            )
        if "project_id" in v:
            project = project_get_for_actor(actor=request.user, organisation=organisation, project_id=v["project_id"])
        elif server is not None and server.organisation_id == organisation.pk:
            project = server.project
        else:
            project = organisation.projects.get(is_default=True)
        datacentre = None
        if v.get("datacentre"):
            datacentre = Datacentre.objects.filter(code=v["datacentre"]).first()
            if datacentre is None:
                raise ValidationFailed(_("Invalid datacentre."), fields={"datacentre": [_("Unknown datacentre.")]})
        floating_ip, action = services.floating_ip_create(
            actor=request.user,
            organisation=organisation,
            project=project,
            name=v["name"],
            datacentre=datacentre,
            server=server,
            labels=v.get("labels"),
            delete_protection=v["delete_protection"],
        )
        body = s.FloatingIpCreateOutputSerializer({"floating_ip": floating_ip, "action": action}).data
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="floating_ips_retrieve",
        tags=TAG,
        parameters=[ID],
        responses={200: s.FloatingIpOutputSerializer, 404: OpenApiTypes.OBJECT},
    ),
    patch=extend_schema(
        operation_id="floating_ips_update",
        tags=TAG,
        summary="Rename, relabel or protect a floating IP",
        description="Change `name`, `labels` (replaced whole) or `delete_protection`.",
        parameters=[ID],
        request=s.FloatingIpUpdateInputSerializer,
        responses={200: s.FloatingIpOutputSerializer, **ERRORS},
    ),
    delete=extend_schema(
        operation_id="floating_ips_destroy",
        tags=TAG,
        summary="Release a floating IP",
        description="Unassigns it if needed and gives the address back to the pool; billing stops. Refused "
        "with 409 while protected (`delete_protected`) or busy (`floating_ip_busy`). Answers 202 with the "
        "`delete` Action.",
        parameters=[ID],
        responses={202: ActionOutputSerializer, **ERRORS},
    ),
)
class FloatingIpDetailApi(FloatingIpsApiView, ResourceDetailApi):
    noun = "floating_ip"
    update_serializer = s.FloatingIpUpdateInputSerializer
    update = services.floating_ip_update
    remove = services.floating_ip_delete


@extend_schema_view(
    get=extend_schema(
        operation_id="floating_ips_actions_list",
        tags=TAG,
        summary="List a floating IP's actions",
        description="The floating IP's asynchronous operations, newest first.",
        parameters=[ID],
        responses=paginated(ActionOutputSerializer),
    ),
)
class FloatingIpActionListApi(FloatingIpsApiView, ResourceActionListApi):
    noun = "floating_ip"
    actions = selectors.floating_ip_action_list


class FloatingIpAssignApi(FloatingIpsApiView):
    @extend_schema(
        operation_id="floating_ips_assign",
        tags=TAG,
        summary="Assign (or move) a floating IP to a server",
        description="Routes the address to the server (a running or stopped server of the floating IP's "
        "project and datacentre) and allows it in the server's firewall; an assigned floating IP moves. "
        "Configure the address in the guest (see the docs). One action at a time: 409 `floating_ip_busy`, "
        "409 `already_assigned` when it is already on that server.",
        parameters=[ID],
        request=s.FloatingIpAssignInputSerializer,
        responses={202: ActionOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, floating_ip_id: str) -> Response:
        floating_ip = self.resource(P.RESOURCES_WRITE)
        data = s.FloatingIpAssignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        server = instance_get(
            actor=request.user, public_id=data.validated_data["server_id"], permission=P.RESOURCES_WRITE
        )
        return accepted(services.floating_ip_assign(actor=request.user, floating_ip=floating_ip, server=server))


class FloatingIpUnassignApi(FloatingIpsApiView):
    @extend_schema(
        operation_id="floating_ips_unassign",
        tags=TAG,
        summary="Unassign a floating IP",
        description="Stops routing the address to its server; it stays reserved. 409 `not_assigned`.",
        parameters=[ID],
        request=None,
        responses={202: ActionOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, floating_ip_id: str) -> Response:
        return accepted(services.floating_ip_unassign(actor=request.user, floating_ip=self.resource(P.RESOURCES_WRITE)))
