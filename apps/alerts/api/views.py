"""Alerts API views: one thin view per operation (input serializer → service/selector → output).

Policies are found through the teams layer: another organisation's id is 404; reading needs
``resources.read``, any write ``resources.write`` (403 for a viewer). Creating past the
organisation's quota is a 409 ``quota_exceeded``. Docs: apps/docs/content/alerts.md.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.alerts import selectors, services
from apps.alerts.api import serializers as s
from apps.core.api.pagination import list_parameters, paginate, paginated
from apps.core.api.queries import list_query
from apps.instances.api.resource_views import ResourceApiView
from apps.instances.selectors import instance_get
from apps.teams.access import organisation_get_for_actor, project_get_for_actor
from apps.teams.choices import Permission

P = Permission
ID = OpenApiParameter("policy_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Alert policy id.")
ERRORS = {400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT}
TAG = ["alerts"]


class AlertPoliciesApiView(ResourceApiView):
    lookup_kwarg = "policy_id"
    getter = selectors.alert_policy_get
    output_serializer = s.AlertPolicyOutputSerializer


def _target(request: Request, v: dict[str, Any]) -> dict[str, Any]:
    """The service's target arguments from the body: a visible server (404 otherwise) or a selector."""
    out: dict[str, Any] = {}
    if "server_id" in v:
        sid = v["server_id"]
        out["instance"] = (
            instance_get(actor=request.user, public_id=sid, permission=P.RESOURCES_READ) if sid is not None else None
        )
    if "label_selector" in v:
        out["label_selector"] = v["label_selector"]
    return out


class AlertPolicyListApi(AlertPoliciesApiView):
    @extend_schema(
        operation_id="alert_policies_list",
        tags=TAG,
        summary="List alert policies",
        description="Every alert policy you can see, by name. Filter by `organisation`, `project`, `metric`, "
        "`enabled`, `server`, `name` and `label_selector` (on the policies' own labels); sort with `sort`. "
        "Paginated (`page`, `per_page`).",
        parameters=list_parameters(s.AlertPolicyListQuerySerializer),
        responses=paginated(s.AlertPolicyOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, s.AlertPolicyListQuerySerializer)
        qs = selectors.alert_policy_list(actor=request.user, where=query.filter_q(), order_by=query.ordering())
        return paginate(request, self, qs, s.AlertPolicyOutputSerializer)

    @extend_schema(
        operation_id="alert_policies_create",
        tags=TAG,
        summary="Create an alert policy",
        description="Watch `metric` of one server (`server_id`) or of the project's servers matching "
        "`label_selector` (exactly one of the two). The policy fires when the metric's average over "
        "`duration_minutes` is above (`gt`) or below (`lt`) `threshold`, once per incident, and notifies again "
        "when it resolves: e-mail, a console notice and a signed webhook. Answers 201 with the policy and, "
        "once, its `webhook_secret`. 409 `quota_exceeded` past the organisation's number of policies.",
        request=s.AlertPolicyCreateInputSerializer,
        responses={201: s.AlertPolicyCreateOutputSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        v = self.valid(s.AlertPolicyCreateInputSerializer)
        organisation = organisation_get_for_actor(
            actor=request.user, org_slug_or_id=v["organisation_id"], permission=P.RESOURCES_WRITE
        )
        if "project_id" in v:
            project = project_get_for_actor(actor=request.user, organisation=organisation, project_id=v["project_id"])
        else:
            project = organisation.projects.get(is_default=True)
        policy = services.alert_policy_create(
            actor=request.user,
            organisation=organisation,
            project=project,
            name=v["name"],
            metric=v["metric"],
            comparison=v["comparison"],
            threshold=v["threshold"],
            duration_minutes=int(v["duration_minutes"]),
            email_members=v["email_members"],
            emails=v.get("emails"),
            portal_notice=v["portal_notice"],
            webhook_url=v.get("webhook_url", ""),
            labels=v.get("labels"),
            enabled=v["enabled"],
            **_target(request, v),
        )
        policy = selectors.alert_policy_get(actor=request.user, public_id=policy.public_id)
        return Response(s.AlertPolicyCreateOutputSerializer(policy).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="alert_policies_retrieve",
        tags=TAG,
        summary="Show an alert policy",
        description="One policy: what it watches (`server_id` or `label_selector`), its condition and whom it "
        "tells. The webhook secret is never shown here (only on create, on the change that sets the first "
        "`webhook_url`, and on rotate-secret).",
        parameters=[ID],
        responses={200: s.AlertPolicyOutputSerializer, 404: OpenApiTypes.OBJECT},
    ),
    patch=extend_schema(
        operation_id="alert_policies_update",
        tags=TAG,
        summary="Change an alert policy",
        description="Change any field; `server_id` and `label_selector` replace the target (one of the two). "
        "An open incident stays open until the next evaluation finds the new condition unmet. "
        "When the change gives the policy its first `webhook_url`, a signing secret is made and answered "
        "once as `webhook_secret` (later changes of the URL keep it; rotate it with rotate-secret).",
        parameters=[ID],
        request=s.AlertPolicyUpdateInputSerializer,
        responses={200: s.AlertPolicyUpdateOutputSerializer, **ERRORS},
    ),
    delete=extend_schema(
        operation_id="alert_policies_destroy",
        tags=TAG,
        summary="Delete an alert policy",
        description="Deletes the policy and its incidents' history. Answers 204.",
        parameters=[ID],
        responses={204: None, **ERRORS},
    ),
)
class AlertPolicyDetailApi(AlertPoliciesApiView):
    def get(self, request: Request, policy_id: str) -> Response:
        return self.shown(self.resource())

    def patch(self, request: Request, policy_id: str) -> Response:
        policy = self.resource(P.RESOURCES_WRITE)
        v = self.valid(s.AlertPolicyUpdateInputSerializer)
        target = _target(request, v)
        v.pop("server_id", None)
        v.pop("label_selector", None)
        if "duration_minutes" in v:
            v["duration_minutes"] = int(v["duration_minutes"])
        updated = services.alert_policy_update(actor=request.user, policy=policy, **v, **target)
        # A first webhook URL gets a fresh secret in the service: answer it once, as create does.
        new_secret = bool(updated.webhook_secret) and updated.webhook_secret != policy.webhook_secret
        shown = self.resource()
        return Response(s.AlertPolicyUpdateOutputSerializer(shown, context={"with_secret": new_secret}).data)

    def delete(self, request: Request, policy_id: str) -> Response:
        services.alert_policy_delete(actor=request.user, policy=self.resource(P.RESOURCES_WRITE))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlertPolicyIncidentListApi(AlertPoliciesApiView):
    @extend_schema(
        operation_id="alert_policies_incidents_list",
        tags=TAG,
        summary="List a policy's incidents",
        description="Newest first; `state` is `firing` until `resolved_at` is set. Filter by `server`.",
        parameters=[ID, *list_parameters(s.AlertIncidentListQuerySerializer)],
        responses=paginated(s.AlertIncidentOutputSerializer),
    )
    def get(self, request: Request, policy_id: str) -> Response:
        query = list_query(request, s.AlertIncidentListQuerySerializer)
        rows = selectors.alert_incident_list(policy=self.resource()).filter(query.filter_q())
        return paginate(request, self, rows, s.AlertIncidentOutputSerializer)


class AlertPolicyRotateSecretApi(AlertPoliciesApiView):
    @extend_schema(
        operation_id="alert_policies_rotate_secret",
        tags=TAG,
        summary="Rotate a policy's webhook secret",
        description="A new signing secret, answered once; the old one stops verifying at once.",
        parameters=[ID],
        request=None,
        responses={200: s.AlertPolicyCreateOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, policy_id: str) -> Response:
        policy = services.alert_policy_secret_rotate(actor=request.user, policy=self.resource(P.RESOURCES_WRITE))
        return Response(s.AlertPolicyCreateOutputSerializer(policy).data)
