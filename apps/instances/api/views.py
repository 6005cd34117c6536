"""Instances API views: one thin view per operation (input serializer → service/selector → output).

Instances, their actions and snapshots are found through the teams layer
(``restrict_to_actor``): another organisation's id is 404; reading needs
``resources.read``, any write ``resources.write`` (403 for a viewer).
Asynchronous work answers 202 with the Action to poll at ``/actions/{id}/``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalogue.models import Offer, OsImage
from apps.core.api.pagination import list_parameters, paginate, paginate_rows, paginated
from apps.core.api.queries import list_query, query_validate
from apps.core.errors import NotFound, ValidationFailed
from apps.instances import selectors, services
from apps.instances.api import serializers as s
from apps.instances.api.listing import instance_rows_representation
from apps.instances.models import Instance
from apps.teams.access import organisation_get_for_actor, require_permission
from apps.teams.api.permissions import ScopedPermission
from apps.teams.choices import Permission

P = Permission
ID = OpenApiParameter("instance_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Instance id.")
ACTION_EXAMPLE = OpenApiExample(
    "Action accepted",
    value={
        "id": "5b0f3c1e-8d6e-4a52-9a41-0d6f4c1e2a7b",
        "instance_id": "0c2a7b6e-6f1d-4b59-8e0a-3a9f2d1c4b5e",
        "type": "start",
        "status": "pending",
        "progress": 0,
        "created_at": "2026-01-05T10:00:00Z",
        "started_at": None,
        "finished_at": None,
        "error": None,
    },
    response_only=True,
)


def _accepted(action: Any) -> Response:
    return Response(s.ActionOutputSerializer(action).data, status=status.HTTP_202_ACCEPTED)


class InstancesApiView(APIView):
    permission_classes = [ScopedPermission]

    def instance(self, permission: Permission = P.RESOURCES_READ) -> Instance:
        return selectors.instance_get(
            actor=self.request.user, public_id=self.kwargs["instance_id"], permission=permission
        )


class InstanceListApi(InstancesApiView):
    @extend_schema(
        operation_id="instances_list",
        tags=["instances"],
        summary="List instances",
        description="Every instance you can see, in all your organisations and projects, newest first. "
        "Deleted instances are left out. Filter by `status`, `organisation`, `project`, `datacentre`, `offer`, "
        "`image`, `name` and `label_selector`; sort with `sort`. An unknown parameter is a 400. Paginated "
        "(`page`, `per_page` up to 200; `Link` and `X-Total-Count` headers).",
        parameters=list_parameters(s.InstanceListQuerySerializer),
        responses=paginated(s.InstanceOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, s.InstanceListQuerySerializer)
        # Same JSON as InstanceOutputSerializer (the schema above), built from column tuples: see listing.py.
        rows, visible = selectors.instance_list_rows(
            actor=request.user, where=query.filter_q(), order_by=query.ordering()
        )
        return paginate_rows(
            request,
            self,
            rows,
            count_queryset=visible,
            represent=instance_rows_representation,
        )


class InstanceDetailApi(InstancesApiView):
    @extend_schema(
        operation_id="instances_retrieve",
        tags=["instances"],
        summary="Get an instance",
        description="Status, power state, addresses and price of one instance.",
        parameters=[ID],
        responses=s.InstanceOutputSerializer,
    )
    def get(self, request: Request, instance_id: str) -> Response:
        return Response(s.InstanceOutputSerializer(self.instance()).data)

    @extend_schema(
        operation_id="instances_update",
        tags=["instances"],
        summary="Rename, relabel or protect an instance",
        description="Change `name`, `labels` (replaced whole) or `delete_protection`. Needs `resources.write`.",
        parameters=[ID],
        request=s.InstanceUpdateInputSerializer,
        responses=s.InstanceOutputSerializer,
        examples=[
            OpenApiExample("Protect", value={"delete_protection": True, "labels": {"env": "prod"}}, request_only=True)
        ],
    )
    def patch(self, request: Request, instance_id: str) -> Response:
        instance = self.instance(P.RESOURCES_WRITE)
        data = s.InstanceUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        updated = services.instance_update(instance=instance, actor=request.user, **data.validated_data)
        return Response(s.InstanceOutputSerializer(updated).data)

    @extend_schema(
        operation_id="instances_destroy",
        tags=["instances"],
        summary="Delete an instance",
        description="Destroys the VM and frees its GPUs, addresses and VMID. Answers 202 with the `delete` "
        "Action. Refused (409 `delete_protected`) while delete protection is on.",
        parameters=[ID],
        responses={202: s.ActionOutputSerializer},
        examples=[ACTION_EXAMPLE],
    )
    def delete(self, request: Request, instance_id: str) -> Response:
        return _accepted(services.instance_delete(instance=self.instance(P.RESOURCES_WRITE), actor=request.user))


POWER = {
    "start": services.instance_start,
    "stop": services.instance_stop,
    "shutdown": services.instance_shutdown,
    "reboot": services.instance_reboot,
    "reset": services.instance_reset,
}


class InstancePowerActionApi(InstancesApiView):
    @extend_schema(
        operation_id="instances_power_action",
        tags=["instances"],
        summary="Power action",
        description="`start` (from stopped), `stop` (hard), `shutdown` (ACPI, hard stop after 2 minutes), "
        "`reboot`, `reset` (from running). Answers 202 with the Action; 409 `invalid_transition` from the "
        "wrong state, 409 `action_in_progress` while another operation runs.",
        parameters=[
            ID,
            OpenApiParameter(
                "action", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(POWER), description="Power action."
            ),
        ],
        request=None,
        responses={202: s.ActionOutputSerializer},
        examples=[ACTION_EXAMPLE],
    )
    def post(self, request: Request, instance_id: str, action: str) -> Response:
        if action not in POWER:
            raise NotFound(_("Unknown action."))
        return _accepted(POWER[action](instance=self.instance(P.RESOURCES_WRITE), actor=request.user))


class InstanceResizeApi(InstancesApiView):
    @extend_schema(
        operation_id="instances_resize",
        tags=["instances"],
        summary="Resize to a larger plan",
        description="Moves to a larger offer of the same family on the same host; the VM is stopped for the "
        "change and started again if it ran. 409 `resize_unavailable` when the host has no room.",
        parameters=[ID],
        request=s.InstanceResizeInputSerializer,
        responses={202: s.ActionOutputSerializer},
        examples=[OpenApiExample("Resize", value={"offer": "GPU-A100-L"}, request_only=True), ACTION_EXAMPLE],
    )
    def post(self, request: Request, instance_id: str) -> Response:
        instance = self.instance(P.RESOURCES_WRITE)
        data = s.InstanceResizeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        offer = Offer.objects.filter(code=data.validated_data["offer"]).first()
        if offer is None:
            raise ValidationFailed(_("Unknown offer."), fields={"offer": [_("Unknown offer.")]})
        return _accepted(services.instance_resize(instance=instance, offer=offer, actor=request.user))


class InstanceRebuildApi(InstancesApiView):
    @extend_schema(
        operation_id="instances_rebuild",
        tags=["instances"],
        summary="Rebuild with another image",
        description="Erases the disk and reinstalls from `image`, keeping the addresses. Answers 202.",
        parameters=[ID],
        request=s.InstanceRebuildInputSerializer,
        responses={202: s.ActionOutputSerializer},
        examples=[OpenApiExample("Rebuild", value={"image": "ubuntu-24.04"}, request_only=True), ACTION_EXAMPLE],
    )
    def post(self, request: Request, instance_id: str) -> Response:
        instance = self.instance(P.RESOURCES_WRITE)
        data = s.InstanceRebuildInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        image = OsImage.objects.filter(slug=data.validated_data["image"]).first()
        if image is None:
            raise ValidationFailed(_("Unknown image."), fields={"image": [_("Unknown image.")]})
        return _accepted(services.instance_rebuild(instance=instance, image=image, actor=request.user))


class InstanceResetPasswordApi(InstancesApiView):
    @extend_schema(
        operation_id="instances_reset_password",
        tags=["instances"],
        summary="Reset the root password",
        description="Sets a new random password through cloud-init (a running instance reboots). The password "
        "is in this response only: it is never stored or shown again.",
        parameters=[ID],
        request=None,
        responses={202: s.PasswordResetOutputSerializer},
    )
    def post(self, request: Request, instance_id: str) -> Response:
        action, password = services.instance_reset_password(
            instance=self.instance(P.RESOURCES_WRITE), actor=request.user
        )
        body = s.PasswordResetOutputSerializer({"action": action, "password": password}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class InstanceConsoleApi(InstancesApiView):
    @extend_schema(
        operation_id="instances_console",
        tags=["instances"],
        summary="Open the browser console",
        description="Issues a single-use console ticket, valid 60 seconds, for a running instance. Open `url` "
        "with a VNC-over-WebSocket client such as noVNC (no VNC password: the ticket is the credential). The "
        "connection goes through VMCloud's console proxy; it never exposes a hypervisor's address. Needs "
        "`resources.write`. Both the issue and the connection are recorded in the audit log.",
        parameters=[ID],
        request=None,
        responses={201: s.ConsoleTicketOutputSerializer},
        examples=[
            OpenApiExample(
                "Console ticket",
                value={
                    "id": "7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6",
                    "url": "wss://console.vmcloud.eu/console/Zk3v9xQ2JwTnS1yB8dPq0LmA6rC5uHhE7oGiKfVtW4M",
                    "expires_at": "2026-01-05T10:01:00Z",
                },
                response_only=True,
            )
        ],
    )
    def post(self, request: Request, instance_id: str) -> Response:
        ticket = services.console_ticket_issue(instance=self.instance(P.RESOURCES_WRITE), actor=request.user)
        return Response(s.ConsoleTicketOutputSerializer(ticket).data, status=status.HTTP_201_CREATED)


class InstanceActionListApi(InstancesApiView):
    @extend_schema(
        operation_id="instances_actions_list",
        tags=["actions"],
        summary="List an instance's actions",
        description="Every asynchronous operation on the instance, newest first. Takes the filters of "
        "`GET /api/v1/actions/`.",
        parameters=list_parameters(s.ActionListQuerySerializer, ID),
        responses=paginated(s.ActionOutputSerializer),
    )
    def get(self, request: Request, instance_id: str) -> Response:
        query = list_query(request, s.ActionListQuerySerializer)
        qs = query.apply(selectors.action_list(actor=request.user, instance=self.instance()))
        return paginate(request, self, qs, s.ActionOutputSerializer)


class ActionListApi(InstancesApiView):
    @extend_schema(
        operation_id="actions_list",
        tags=["actions"],
        summary="List actions",
        description="Every asynchronous operation (create, power, resize, snapshot …) on the resources you can "
        "see, in all your organisations, newest first. Filter by `status`, `type`, `organisation`, "
        "`resource_type`, `resource_id` and `started_after` / `started_before`; sort with `sort`. An unknown "
        "parameter is a 400. Paginated (`Link` and `X-Total-Count` headers).",
        parameters=list_parameters(s.ActionListQuerySerializer),
        responses=paginated(s.ActionOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, s.ActionListQuerySerializer)
        qs = selectors.action_list_for_actor(actor=request.user, where=query.filter_q(), order_by=query.ordering())
        return paginate(request, self, qs, s.ActionOutputSerializer)


class ActionDetailApi(InstancesApiView):
    @extend_schema(
        operation_id="actions_retrieve",
        tags=["actions"],
        summary="Get an action",
        description="Poll this until `status` is `success` or `error`.",
        parameters=[OpenApiParameter("action_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses=s.ActionOutputSerializer,
        examples=[ACTION_EXAMPLE],
    )
    def get(self, request: Request, action_id: str) -> Response:
        return Response(s.ActionOutputSerializer(selectors.action_get(actor=request.user, public_id=action_id)).data)


class SnapshotListApi(InstancesApiView):
    @extend_schema(
        operation_id="snapshots_list",
        tags=["snapshots"],
        summary="List snapshots",
        description="Newest first. Filter by `status`, `name`, `scheduled` and `label_selector`; sort with "
        "`sort`. An unknown parameter is a 400.",
        parameters=list_parameters(s.SnapshotListQuerySerializer, ID),
        responses=paginated(s.SnapshotOutputSerializer),
    )
    def get(self, request: Request, instance_id: str) -> Response:
        query = list_query(request, s.SnapshotListQuerySerializer)
        qs = selectors.snapshot_list(
            actor=request.user, instance=self.instance(), where=query.filter_q(), order_by=query.ordering()
        )
        return paginate(request, self, qs, s.SnapshotOutputSerializer)

    @extend_schema(
        operation_id="snapshots_create",
        tags=["snapshots"],
        summary="Take a snapshot",
        description="Disk snapshot (no RAM state). Manual snapshots are limited per plan "
        "(409 `snapshot_quota_exceeded`). Answers 202 with the snapshot and its Action.",
        parameters=[ID],
        request=s.SnapshotCreateInputSerializer,
        responses={202: s.SnapshotCreateOutputSerializer},
        examples=[OpenApiExample("Before upgrade", value={"name": "before-upgrade"}, request_only=True)],
    )
    def post(self, request: Request, instance_id: str) -> Response:
        instance = self.instance(P.RESOURCES_WRITE)
        data = s.SnapshotCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        snapshot, action = services.snapshot_create(
            instance=instance,
            name=data.validated_data.get("name", ""),
            labels=data.validated_data.get("labels"),
            actor=request.user,
        )
        body = s.SnapshotCreateOutputSerializer({"snapshot": snapshot, "action": action}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


SNAP = OpenApiParameter("snapshot_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Snapshot id.")


class SnapshotDetailApi(InstancesApiView):
    @extend_schema(
        operation_id="snapshots_retrieve",
        tags=["snapshots"],
        summary="Get a snapshot",
        parameters=[ID, SNAP],
        responses=s.SnapshotOutputSerializer,
    )
    def get(self, request: Request, instance_id: str, snapshot_id: str) -> Response:
        snapshot = selectors.snapshot_get(actor=request.user, instance=self.instance(), public_id=snapshot_id)
        return Response(s.SnapshotOutputSerializer(snapshot).data)

    @extend_schema(
        operation_id="snapshots_partial_update",
        tags=["snapshots"],
        summary="Rename or relabel a snapshot",
        description="Change `name` or `labels` (replaced whole). Needs `resources.write`.",
        parameters=[ID, SNAP],
        request=s.SnapshotUpdateInputSerializer,
        responses=s.SnapshotOutputSerializer,
        examples=[OpenApiExample("Relabel", value={"labels": {"keep": "yes"}}, request_only=True)],
    )
    def patch(self, request: Request, instance_id: str, snapshot_id: str) -> Response:
        instance = self.instance(P.RESOURCES_WRITE)
        snapshot = selectors.snapshot_get(actor=request.user, instance=instance, public_id=snapshot_id)
        data = s.SnapshotUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        snapshot = services.snapshot_update(snapshot=snapshot, actor=request.user, **data.validated_data)
        return Response(s.SnapshotOutputSerializer(snapshot).data)

    @extend_schema(
        operation_id="snapshots_destroy",
        tags=["snapshots"],
        summary="Delete a snapshot",
        parameters=[ID, SNAP],
        responses={202: s.ActionOutputSerializer},
    )
    def delete(self, request: Request, instance_id: str, snapshot_id: str) -> Response:
        instance = self.instance(P.RESOURCES_WRITE)
        snapshot = selectors.snapshot_get(actor=request.user, instance=instance, public_id=snapshot_id)
        return _accepted(services.snapshot_delete(snapshot=snapshot, actor=request.user))


class SnapshotRollbackApi(InstancesApiView):
    @extend_schema(
        operation_id="snapshots_rollback",
        tags=["snapshots"],
        summary="Roll back to a snapshot",
        description="Stops the instance, restores the snapshot, starts it again if it ran. Answers 202.",
        parameters=[ID, SNAP],
        request=None,
        responses={202: s.ActionOutputSerializer},
    )
    def post(self, request: Request, instance_id: str, snapshot_id: str) -> Response:
        instance = self.instance(P.RESOURCES_WRITE)
        snapshot = selectors.snapshot_get(actor=request.user, instance=instance, public_id=snapshot_id)
        return _accepted(services.snapshot_rollback(snapshot=snapshot, actor=request.user))


SCHEDULE_EXAMPLE = OpenApiExample(
    "Nightly, keep a week",
    value={"frequency": "daily", "hour": 3, "retention": 7},
    request_only=True,
)


class SnapshotScheduleApi(InstancesApiView):
    @extend_schema(
        operation_id="snapshot_schedule_retrieve",
        tags=["snapshots"],
        summary="Get the automatic snapshot schedule",
        description="404 `not_found` when the instance has no schedule.",
        parameters=[ID],
        responses=s.SnapshotScheduleOutputSerializer,
    )
    def get(self, request: Request, instance_id: str) -> Response:
        schedule = selectors.snapshot_schedule_get(actor=request.user, instance=self.instance())
        return Response(s.SnapshotScheduleOutputSerializer(schedule).data)

    @extend_schema(
        operation_id="snapshot_schedule_set",
        tags=["snapshots"],
        summary="Create or replace the automatic snapshot schedule",
        description="Daily at `hour`:00 UTC, or weekly on `weekday` (0 = Sunday) at `hour`:00 UTC. Each run "
        "takes a snapshot (an Action of type `snapshot_create`) and deletes the oldest scheduled snapshots "
        "beyond `retention` (1 to 30). Scheduled snapshots do not count against the plan's manual snapshot "
        "quota; a run is skipped while another operation runs on the instance. Needs `resources.write`.",
        parameters=[ID],
        request=s.SnapshotScheduleInputSerializer,
        responses=s.SnapshotScheduleOutputSerializer,
        examples=[
            SCHEDULE_EXAMPLE,
            OpenApiExample(
                "Sundays at 02:00, keep 4",
                value={"frequency": "weekly", "weekday": 0, "hour": 2, "retention": 4},
                request_only=True,
            ),
        ],
    )
    def put(self, request: Request, instance_id: str) -> Response:
        instance = self.instance(P.RESOURCES_WRITE)
        data = s.SnapshotScheduleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        schedule = services.snapshot_schedule_set(instance=instance, actor=request.user, **data.validated_data)
        return Response(s.SnapshotScheduleOutputSerializer(schedule).data)

    @extend_schema(
        operation_id="snapshot_schedule_destroy",
        tags=["snapshots"],
        summary="Stop automatic snapshots",
        description="Removes the schedule; snapshots already taken stay until you delete them.",
        parameters=[ID],
        responses={204: None},
    )
    def delete(self, request: Request, instance_id: str) -> Response:
        services.snapshot_schedule_delete(instance=self.instance(P.RESOURCES_WRITE), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InstanceMetricsApi(InstancesApiView):
    @extend_schema(
        operation_id="instances_metrics",
        tags=["instances"],
        summary="Metrics",
        description="CPU (fraction of the vCPUs), memory (bytes), disk and network rates (bytes/s) from "
        "Proxmox, about 70 points over the timeframe.",
        parameters=[
            ID,
            s.MetricsQuerySerializer,
        ],
        responses=s.MetricsOutputSerializer,
    )
    def get(self, request: Request, instance_id: str) -> Response:
        timeframe = query_validate(request, s.MetricsQuerySerializer)["timeframe"]
        points = services.instance_metrics(instance=self.instance(), actor=request.user, timeframe=timeframe)
        return Response(s.MetricsOutputSerializer({"timeframe": timeframe, "points": points}).data)


class SshKeyListApi(APIView):
    permission_classes = [ScopedPermission]

    @extend_schema(
        operation_id="ssh_keys_list",
        tags=["ssh-keys"],
        summary="List SSH keys",
        description="Keys of your organisations, by name. Filter by `organisation_id` (404 for an organisation "
        "you cannot see), `name`, `fingerprint` and `label_selector`; sort with `sort`. An unknown parameter "
        "is a 400.",
        parameters=list_parameters(s.SshKeyListQuerySerializer),
        responses=paginated(s.SshKeyOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, s.SshKeyListQuerySerializer)
        organisation = None
        if "organisation_id" in query:
            organisation = organisation_get_for_actor(actor=request.user, org_slug_or_id=query.get("organisation_id"))
        qs = selectors.ssh_key_list(
            actor=request.user, organisation=organisation, where=query.filter_q(), order_by=query.ordering()
        )
        return paginate(request, self, qs, s.SshKeyOutputSerializer)

    @extend_schema(
        operation_id="ssh_keys_create",
        tags=["ssh-keys"],
        summary="Add an SSH key",
        description="ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa of at least 2048 bits. The SHA256 "
        "fingerprint is computed as `ssh-keygen -lf` shows it.",
        request=s.SshKeyCreateInputSerializer,
        responses={201: s.SshKeyOutputSerializer},
        examples=[
            OpenApiExample(
                "ed25519",
                value={
                    "organisation_id": 42,
                    "name": "alice laptop",
                    "public_key": "ssh-ed25519 AAAAC3Nz… alice@laptop",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = s.SshKeyCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organisation = organisation_get_for_actor(
            actor=request.user, org_slug_or_id=data.validated_data["organisation_id"], permission=P.RESOURCES_WRITE
        )
        key = services.ssh_key_create(
            organisation=organisation,
            name=data.validated_data["name"],
            public_key=data.validated_data["public_key"],
            labels=data.validated_data.get("labels"),
            actor=request.user,
        )
        return Response(s.SshKeyOutputSerializer(key).data, status=status.HTTP_201_CREATED)


KEY = OpenApiParameter("key_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="SSH key id.")


class SshKeyDetailApi(APIView):
    permission_classes = [ScopedPermission]

    @extend_schema(
        operation_id="ssh_keys_retrieve", tags=["ssh-keys"], parameters=[KEY], responses=s.SshKeyOutputSerializer
    )
    def get(self, request: Request, key_id: str) -> Response:
        return Response(s.SshKeyOutputSerializer(selectors.ssh_key_get(actor=request.user, public_id=key_id)).data)

    @extend_schema(
        operation_id="ssh_keys_update",
        tags=["ssh-keys"],
        summary="Rename or relabel an SSH key",
        description="Change `name` or `labels` (replaced whole).",
        parameters=[KEY],
        request=s.SshKeyUpdateInputSerializer,
        responses=s.SshKeyOutputSerializer,
    )
    def patch(self, request: Request, key_id: str) -> Response:
        key = selectors.ssh_key_get(actor=request.user, public_id=key_id)
        # Refuse a read-only caller before looking at the body: a viewer gets 403, not a 400.
        require_permission(request.user, key.organisation, Permission.RESOURCES_WRITE)
        data = s.SshKeyUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = services.ssh_key_update(key=key, actor=request.user, **data.validated_data)
        return Response(s.SshKeyOutputSerializer(key).data)

    @extend_schema(operation_id="ssh_keys_destroy", tags=["ssh-keys"], parameters=[KEY], responses={204: None})
    def delete(self, request: Request, key_id: str) -> Response:
        key = selectors.ssh_key_get(actor=request.user, public_id=key_id)
        services.ssh_key_delete(key=key, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
