"""Networks API views: one thin view per operation (input serializer → service/selector → output).

Networks are found through the teams layer: another organisation's id is 404;
reading needs ``resources.read``, any write ``resources.write`` (403 for a
viewer). A create answers 201 with the network and its Action; other work on
Proxmox answers 202 with an Action (``/api/v1/actions/{id}/``, or the network's
``/actions/`` list), as volumes, firewalls and floating IPs do.
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
from apps.core.errors import NotFound, ValidationFailed
from apps.instances.api.resource_views import (
    ResourceActionListApi,
    ResourceApiView,
    ResourceDetailApi,
    accepted,
)
from apps.instances.api.serializers import ActionOutputSerializer
from apps.instances.selectors import instance_get
from apps.networks import selectors, services
from apps.networks.api import serializers as s
from apps.teams.access import organisation_get_for_actor, project_get_for_actor
from apps.teams.choices import Permission

P = Permission
ID = OpenApiParameter("network_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Network id.")
ERRORS = {400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT}


class NetworksApiView(ResourceApiView):
    lookup_kwarg = "network_id"
    getter = selectors.network_get
    output_serializer = s.NetworkOutputSerializer


class NetworkListApi(NetworksApiView):
    @extend_schema(
        operation_id="networks_list",
        tags=["networks"],
        summary="List private networks",
        description="Every private network you can see, newest first, with its subnets and the servers on it; "
        "deleted networks are left out. Filter by `status`, `organisation`, `project`, `datacentre`, `name`, "
        "`server` and `label_selector`; sort with `sort`. An unknown parameter is a 400. Paginated.",
        parameters=list_parameters(s.NetworkListQuerySerializer),
        responses=paginated(s.NetworkOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, s.NetworkListQuerySerializer)
        qs = selectors.network_list(actor=request.user, where=query.filter_q(), order_by=query.ordering()).distinct()
        return paginate(request, self, qs, s.NetworkOutputSerializer)

    @extend_schema(
        operation_id="networks_create",
        tags=["networks"],
        summary="Create a private network",
        description="A private network in one datacentre with a private (RFC 1918) IPv4 range and its subnets. "
        "A range or subnet that is malformed, public, of the wrong size or overlapping another (or a range the "
        "platform uses) is a 400 naming `ip_range` or `subnets`. Answers 201 with the `network` and its "
        "`create` Action (the network is `available` once it succeeded). 409 `quota_exceeded` past the "
        "organisation's network quota, `networks_unavailable` where the datacentre offers no private networks.",
        request=s.NetworkCreateInputSerializer,
        responses={201: s.NetworkCreateOutputSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = s.NetworkCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        organisation = organisation_get_for_actor(
            actor=request.user, org_slug_or_id=v["organisation_id"], permission=P.RESOURCES_WRITE
        )
        if "project_id" in v:
            project = project_get_for_actor(actor=request.user, organisation=organisation, project_id=v["project_id"])
        else:
            project = organisation.projects.get(is_default=True)
        datacentre = Datacentre.objects.filter(code=v["datacentre"]).first()
        if datacentre is None:
            raise ValidationFailed(_("Invalid datacentre."), fields={"datacentre": [_("Unknown datacentre.")]})
        network, action = services.network_create(
            actor=request.user,
            organisation=organisation,
            project=project,
            name=v["name"],
            datacentre=datacentre,
            ip_range=v["ip_range"],
            subnets=v.get("subnets") or (),
            labels=v.get("labels"),
        )
        body = {"network": s.NetworkOutputSerializer(network).data, "action": ActionOutputSerializer(action).data}
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="networks_retrieve",
        tags=["networks"],
        parameters=[ID],
        responses={200: s.NetworkOutputSerializer, 404: OpenApiTypes.OBJECT},
    ),
    patch=extend_schema(
        operation_id="networks_update",
        tags=["networks"],
        summary="Rename or relabel a network",
        description="Change `name` or `labels` (replaced whole).",
        parameters=[ID],
        request=s.NetworkUpdateInputSerializer,
        responses={200: s.NetworkOutputSerializer, **ERRORS},
    ),
    delete=extend_schema(
        operation_id="networks_destroy",
        tags=["networks"],
        summary="Delete a network",
        description="Only an empty network is deleted: 409 `network_not_empty` while a server is on it, "
        "`network_busy` during another operation. Answers 202 with the `delete` Action.",
        parameters=[ID],
        responses={202: ActionOutputSerializer, **ERRORS},
    ),
)
class NetworkDetailApi(NetworksApiView, ResourceDetailApi):
    noun = "network"
    update_serializer = s.NetworkUpdateInputSerializer
    update = services.network_update
    remove = services.network_delete


class SubnetListApi(NetworksApiView):
    @extend_schema(
        operation_id="networks_subnets_list",
        tags=["networks"],
        summary="List a network's subnets",
        parameters=[ID],
        responses=paginated(s.SubnetOutputSerializer),
    )
    def get(self, request: Request, network_id: str) -> Response:
        return paginate(request, self, self.resource().subnets.order_by("id"), s.SubnetOutputSerializer)

    @extend_schema(
        operation_id="networks_subnets_create",
        tags=["networks"],
        summary="Add a subnet",
        description="Adds a subnet inside the network's range (400 naming `subnets` when it is outside, of the "
        "wrong size or overlapping another). Answers 202 with the `apply` Action.",
        parameters=[ID],
        request=s.SubnetCreateInputSerializer,
        responses={202: ActionOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, network_id: str) -> Response:
        network = self.resource(P.RESOURCES_WRITE)
        data = s.SubnetCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _subnet, action = services.subnet_add(actor=request.user, network=network, cidr=data.validated_data["cidr"])
        return accepted(action)


SUBNET_ID = OpenApiParameter("subnet_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Subnet id.")


class SubnetDetailApi(NetworksApiView):
    @extend_schema(
        operation_id="networks_subnets_destroy",
        tags=["networks"],
        summary="Delete a subnet",
        description="Removes a subnet no server uses: 409 `subnet_in_use` while a server has an address in it "
        "(detach it first), `network_busy` during another operation. Answers 202 with the `apply` Action that "
        "removes it on Proxmox.",
        parameters=[ID, SUBNET_ID],
        responses={202: ActionOutputSerializer, **ERRORS},
    )
    def delete(self, request: Request, network_id: str, subnet_id: str) -> Response:
        network = self.resource(P.RESOURCES_WRITE)
        subnet = network.subnets.filter(public_id=subnet_id).first()
        if subnet is None:
            raise NotFound(_("No such subnet."))
        return accepted(services.subnet_delete(actor=request.user, network=network, subnet=subnet))


@extend_schema_view(
    get=extend_schema(
        operation_id="networks_actions_list",
        tags=["networks"],
        summary="List a network's actions",
        description="The network's asynchronous operations (create, apply, attach, detach, delete), newest first.",
        parameters=[ID],
        responses=paginated(ActionOutputSerializer),
    ),
)
class NetworkActionListApi(NetworksApiView, ResourceActionListApi):
    noun = "network"
    actions = selectors.network_action_list


class NetworkAttachApi(NetworksApiView):
    @extend_schema(
        operation_id="networks_attach",
        tags=["networks"],
        summary="Attach a server to a network",
        description="Adds a card on the network to a running or stopped server of the network's project and "
        "datacentre, with `ip` when it is free or the next free address. Cloud-init carries the address: a "
        "running server's guest configures it at its next reboot (`needs_reboot` on the network's `servers`). "
        "409 `address_in_use`, `network_full`, `already_attached`, `too_many_networks`, `range_overlap`, "
        "`server_not_ready`.",
        parameters=[ID],
        request=s.NetworkAttachInputSerializer,
        responses={202: ActionOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, network_id: str) -> Response:
        network = self.resource(P.RESOURCES_WRITE)
        data = s.NetworkAttachInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        server = instance_get(
            actor=request.user, public_id=data.validated_data["server_id"], permission=P.RESOURCES_WRITE
        )
        return accepted(
            services.network_attach(
                actor=request.user, network=network, server=server, ip=data.validated_data.get("ip")
            )
        )


class NetworkDetachApi(NetworksApiView):
    @extend_schema(
        operation_id="networks_detach",
        tags=["networks"],
        summary="Detach a server from a network",
        description="Removes the server's card on the network and frees its address. 409 `not_attached`.",
        parameters=[ID],
        request=s.NetworkDetachInputSerializer,
        responses={202: ActionOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, network_id: str) -> Response:
        network = self.resource(P.RESOURCES_WRITE)
        data = s.NetworkDetachInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        server = instance_get(
            actor=request.user, public_id=data.validated_data["server_id"], permission=P.RESOURCES_WRITE
        )
        return accepted(services.network_detach(actor=request.user, network=network, server=server))
