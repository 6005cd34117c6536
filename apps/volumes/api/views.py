"""Volumes API views: one thin view per operation (input serializer → service/selector → output).

Volumes are found through the teams layer: another organisation's id is 404;
reading needs ``resources.read``, any write ``resources.write`` (403 for a
viewer). A create answers 201 with the volume and its Action; other work on
Proxmox answers 202 with the shared Action (``/api/v1/actions/{id}/``, or the
volume's ``/actions/`` list), as networks, firewalls and floating IPs do.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalogue.models import Datacentre, Offer
from apps.core.api.pagination import list_parameters, paginate, paginated
from apps.core.api.queries import list_query
from apps.core.errors import ValidationFailed
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
from apps.volumes import selectors, services
from apps.volumes.api import serializers as s

P = Permission
ID = OpenApiParameter("volume_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Volume id.")
ERRORS = {400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT}


class VolumesApiView(ResourceApiView):
    lookup_kwarg = "volume_id"
    getter = selectors.volume_get
    output_serializer = s.VolumeOutputSerializer


class VolumeListApi(VolumesApiView):
    @extend_schema(
        operation_id="volumes_list",
        tags=["volumes"],
        summary="List volumes",
        description="Every block storage volume you can see, newest first; deleted volumes are left out. Filter "
        "by `status`, `organisation`, `project`, `datacentre`, `tier`, `server`, `name` and `label_selector`; sort "
        "with `sort`. An unknown parameter is a 400. Paginated (`page`, `per_page`).",
        parameters=list_parameters(s.VolumeListQuerySerializer),
        responses=paginated(s.VolumeOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, s.VolumeListQuerySerializer)
        qs = selectors.volume_list(actor=request.user, where=query.filter_q(), order_by=query.ordering())
        return paginate(request, self, qs, s.VolumeOutputSerializer)

    @extend_schema(
        operation_id="volumes_create",
        tags=["volumes"],
        summary="Create a volume",
        description="Allocates a volume of a STORAGE-* tier (10 to 10000 GB), attached at once to `server_id` "
        "when given. Answers 201 with the `volume` and its `create` Action (follow it until the volume is "
        "`available`, or `in_use` when attached). 409 "
        "`capacity_exhausted` when the tier has no room left in the datacentre, 409 `quota_exceeded` past the "
        "organisation's volume quota (number of volumes, total GB).",
        request=s.VolumeCreateInputSerializer,
        responses={201: s.VolumeCreateOutputSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = s.VolumeCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        organisation = organisation_get_for_actor(
            actor=request.user, org_slug_or_id=v["organisation_id"], permission=P.RESOURCES_WRITE
        )
        if "project_id" in v:
            project = project_get_for_actor(actor=request.user, organisation=organisation, project_id=v["project_id"])
        else:
            project = organisation.projects.get(is_default=True)
        tier = Offer.objects.select_related("family").filter(code=v["tier"], family__slug="storage").first()
        if tier is None:
            raise ValidationFailed(_("Invalid tier."), fields={"tier": [_("Unknown storage tier.")]})
        datacentre = Datacentre.objects.filter(code=v["datacentre"]).first()
        if datacentre is None:
            raise ValidationFailed(_("Invalid datacentre."), fields={"datacentre": [_("Unknown datacentre.")]})
        server = None
        if v.get("server_id"):
            server = instance_get(actor=request.user, public_id=v["server_id"], permission=P.RESOURCES_WRITE)
        volume, action = services.volume_create(
            actor=request.user,
            organisation=organisation,
            project=project,
            name=v["name"],
            tier=tier,
            size_gb=v["size_gb"],
            datacentre=datacentre,
            server=server,
            labels=v.get("labels"),
            delete_protection=v["delete_protection"],
        )
        body = {"volume": s.VolumeOutputSerializer(volume).data, "action": ActionOutputSerializer(action).data}
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="volumes_retrieve",
        tags=["volumes"],
        parameters=[ID],
        responses={200: s.VolumeOutputSerializer, 404: OpenApiTypes.OBJECT},
    ),
    patch=extend_schema(
        operation_id="volumes_update",
        tags=["volumes"],
        summary="Rename, relabel or protect a volume",
        description="Change `name`, `labels` (replaced whole) or `delete_protection`.",
        parameters=[ID],
        request=s.VolumeUpdateInputSerializer,
        responses={200: s.VolumeOutputSerializer, **ERRORS},
    ),
    delete=extend_schema(
        operation_id="volumes_destroy",
        tags=["volumes"],
        summary="Delete a volume",
        description="Frees the volume and its data. Refused with 409 while attached (`volume_attached`) or "
        "protected (`delete_protected`). Answers 202 with the `delete` Action.",
        parameters=[ID],
        responses={202: ActionOutputSerializer, **ERRORS},
    ),
)
class VolumeDetailApi(VolumesApiView, ResourceDetailApi):
    noun = "volume"
    update_serializer = s.VolumeUpdateInputSerializer
    update = services.volume_update
    remove = services.volume_delete


@extend_schema_view(
    get=extend_schema(
        operation_id="volumes_actions_list",
        tags=["volumes"],
        summary="List a volume's actions",
        description="The volume's asynchronous operations, newest first.",
        parameters=[ID],
        responses=paginated(ActionOutputSerializer),
    ),
)
class VolumeActionListApi(VolumesApiView, ResourceActionListApi):
    noun = "volume"
    actions = selectors.volume_action_list


class VolumeAttachApi(VolumesApiView):
    @extend_schema(
        operation_id="volumes_attach",
        tags=["volumes"],
        summary="Attach a volume to a server",
        description="A running server takes it at once (hot-plug), a stopped one at its next start. The server "
        "must be in the volume's project and datacentre. One attach at a time: 409 `volume_busy` otherwise.",
        parameters=[ID],
        request=s.VolumeAttachInputSerializer,
        responses={202: ActionOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, volume_id: str) -> Response:
        volume = self.resource(P.RESOURCES_WRITE)
        data = s.VolumeAttachInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        server = instance_get(
            actor=request.user, public_id=data.validated_data["server_id"], permission=P.RESOURCES_WRITE
        )
        return accepted(services.volume_attach(actor=request.user, volume=volume, server=server))


class VolumeDetachApi(VolumesApiView):
    @extend_schema(
        operation_id="volumes_detach",
        tags=["volumes"],
        summary="Detach a volume",
        description="Removes the disk from its server; the data stays on the volume.",
        parameters=[ID],
        request=None,
        responses={202: ActionOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, volume_id: str) -> Response:
        return accepted(services.volume_detach(actor=request.user, volume=self.resource(P.RESOURCES_WRITE)))


class VolumeResizeApi(VolumesApiView):
    @extend_schema(
        operation_id="volumes_resize",
        tags=["volumes"],
        summary="Grow a volume",
        description="Grows an attached volume (never shrinks) and raises its IOPS and throughput limits with "
        "its size. The guest's file system must then be grown (e.g. `resize2fs`). 409 `volume_not_attached` for "
        "a detached volume (Proxmox grows a disk through a server), `capacity_exhausted` or `quota_exceeded`.",
        parameters=[ID],
        request=s.VolumeResizeInputSerializer,
        responses={202: ActionOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, volume_id: str) -> Response:
        volume = self.resource(P.RESOURCES_WRITE)
        data = s.VolumeResizeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return accepted(
            services.volume_resize(actor=request.user, volume=volume, size_gb=data.validated_data["size_gb"])
        )
