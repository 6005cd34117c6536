"""Firewalls API views: one thin view per operation (input serializer → service/selector → output).

Firewalls are found through the teams layer: another organisation's id is 404; reading needs
``resources.read``, any write ``resources.write`` (403 for a viewer). Changes that reach the servers
answer with the firewall's ``apply`` Action (Hetzner's action names), to poll at ``/actions/{id}/``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.pagination import list_parameters, paginate, paginated
from apps.core.api.queries import list_query
from apps.firewalls import selectors, services
from apps.firewalls.api import serializers as s
from apps.instances.api.resource_views import (
    ResourceActionListApi,
    ResourceApiView,
    ResourceDetailApi,
    accepted,
)
from apps.instances.api.serializers import ActionOutputSerializer
from apps.instances.models import Instance
from apps.instances.selectors import instance_get
from apps.teams.access import organisation_get_for_actor, project_get_for_actor
from apps.teams.choices import Permission

P = Permission
ID = OpenApiParameter("firewall_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Firewall id.")
ERRORS = {400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT}


def _targets(request: Request, items: list[dict[str, Any]]) -> tuple[list[Instance], list[str]]:
    """The servers (visible to the actor, writable) and label selectors named by ``apply_to`` items."""
    servers: list[Instance] = []
    selectors_: list[str] = []
    for item in items:
        if item["type"] == "server":
            server = instance_get(actor=request.user, public_id=item["server"]["id"], permission=P.RESOURCES_WRITE)
            if server not in servers:
                servers.append(server)
        else:
            selectors_.append(item["label_selector"]["selector"])
    return servers, selectors_


class FirewallsApiView(ResourceApiView):
    lookup_kwarg = "firewall_id"
    getter = selectors.firewall_get
    output_serializer = s.FirewallOutputSerializer


class FirewallListApi(FirewallsApiView):
    @extend_schema(
        operation_id="firewalls_list",
        tags=["firewalls"],
        summary="List firewalls",
        description="Every firewall you can see, newest first. Filter by `status`, `organisation`, `project`, "
        "`name` and `label_selector`; sort with `sort`. An unknown parameter is a 400. Paginated.",
        parameters=list_parameters(s.FirewallListQuerySerializer),
        responses=paginated(s.FirewallOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, s.FirewallListQuerySerializer)
        qs = selectors.firewall_list(actor=request.user, where=query.filter_q(), order_by=query.ordering())
        return paginate(request, self, qs, s.FirewallOutputSerializer)

    @extend_schema(
        operation_id="firewalls_create",
        tags=["firewalls"],
        summary="Create a firewall",
        description="A firewall with inbound and outbound rules, applied at once to the servers and label "
        "selectors of `apply_to` (a selector also covers the project's future servers). Answers 201 with the "
        "firewall and the `apply` Action writing it on the servers. A bad rule is a 400 naming the field "
        "(`rules[3].port`); 409 `quota_exceeded` past the organisation's firewall or rule quota.",
        request=s.FirewallCreateInputSerializer,
        responses={201: s.FirewallCreateOutputSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = s.FirewallCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        organisation = organisation_get_for_actor(
            actor=request.user, org_slug_or_id=v["organisation_id"], permission=P.RESOURCES_WRITE
        )
        if "project_id" in v:
            project = project_get_for_actor(actor=request.user, organisation=organisation, project_id=v["project_id"])
        else:
            project = organisation.projects.get(is_default=True)
        servers, label_selectors = _targets(request, v.get("apply_to", []))
        firewall, actions = services.firewall_create(
            actor=request.user,
            organisation=organisation,
            project=project,
            name=v["name"],
            rules_data=v.get("rules", []),
            labels=v.get("labels"),
            servers=servers,
            label_selectors=label_selectors,
        )
        firewall = selectors.firewall_get(actor=request.user, public_id=firewall.public_id)
        body = {
            "firewall": s.FirewallOutputSerializer(firewall).data,
            "actions": ActionOutputSerializer(actions, many=True).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="firewalls_retrieve",
        tags=["firewalls"],
        parameters=[ID],
        responses={200: s.FirewallOutputSerializer, 404: OpenApiTypes.OBJECT},
    ),
    patch=extend_schema(
        operation_id="firewalls_update",
        tags=["firewalls"],
        summary="Rename or relabel a firewall",
        description="Change `name` or `labels` (replaced whole). Rules change with `actions/set_rules/`.",
        parameters=[ID],
        request=s.FirewallUpdateInputSerializer,
        responses={200: s.FirewallOutputSerializer, **ERRORS},
    ),
    delete=extend_schema(
        operation_id="firewalls_destroy",
        tags=["firewalls"],
        summary="Delete a firewall",
        description="Removes the firewall from every server (a server left without firewall is open again), "
        "then deletes it. Answers 202 with the `delete` Action.",
        parameters=[ID],
        responses={202: ActionOutputSerializer, **ERRORS},
    ),
)
class FirewallDetailApi(FirewallsApiView, ResourceDetailApi):
    noun = "firewall"
    update_serializer = s.FirewallUpdateInputSerializer
    update = services.firewall_update
    remove = services.firewall_delete


@extend_schema_view(
    get=extend_schema(
        operation_id="firewalls_actions_list",
        tags=["firewalls"],
        summary="List a firewall's actions",
        description="The firewall's asynchronous operations (apply, delete), newest first.",
        parameters=[ID],
        responses=paginated(ActionOutputSerializer),
    ),
)
class FirewallActionListApi(FirewallsApiView, ResourceActionListApi):
    noun = "firewall"
    actions = selectors.firewall_action_list


class FirewallSetRulesApi(FirewallsApiView):
    @extend_schema(
        operation_id="firewalls_set_rules",
        tags=["firewalls"],
        summary="Set a firewall's rules",
        description="Replaces every rule; the `apply` Action writes them to every server the firewall applies "
        "to. A bad rule is a 400 naming the field (`rules[3].port`).",
        parameters=[ID],
        request=s.FirewallSetRulesInputSerializer,
        responses={202: ActionOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, firewall_id: str) -> Response:
        firewall = self.resource(P.RESOURCES_WRITE)
        data = s.FirewallSetRulesInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action = services.firewall_set_rules(
            firewall=firewall, actor=request.user, rules_data=data.validated_data["rules"]
        )
        return accepted(action)


class FirewallApplyApi(FirewallsApiView):
    @extend_schema(
        operation_id="firewalls_apply_to_resources",
        tags=["firewalls"],
        summary="Apply a firewall to servers",
        description="By server id (a server of the firewall's project) or label selector (the project's "
        "current and future servers whose labels match). 409 `server_firewall_limit` when a server already "
        "uses 5 firewalls.",
        parameters=[ID],
        request=s.FirewallApplyInputSerializer,
        responses={202: ActionOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, firewall_id: str) -> Response:
        firewall = self.resource(P.RESOURCES_WRITE)
        data = s.FirewallApplyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        servers, label_selectors = _targets(request, data.validated_data["apply_to"])
        action = services.firewall_apply_to(
            firewall=firewall, actor=request.user, servers=servers, label_selectors=label_selectors
        )
        return accepted(action)


class FirewallRemoveApi(FirewallsApiView):
    @extend_schema(
        operation_id="firewalls_remove_from_resources",
        tags=["firewalls"],
        summary="Remove a firewall from servers",
        description="Stops applying it to these servers or label selectors; a server left without firewall "
        "is open again.",
        parameters=[ID],
        request=s.FirewallRemoveInputSerializer,
        responses={202: ActionOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, firewall_id: str) -> Response:
        firewall = self.resource(P.RESOURCES_WRITE)
        data = s.FirewallRemoveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        servers, label_selectors = _targets(request, data.validated_data["remove_from"])
        action = services.firewall_remove_from(
            firewall=firewall, actor=request.user, servers=servers, label_selectors=label_selectors
        )
        return accepted(action)
