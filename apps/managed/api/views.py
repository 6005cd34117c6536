"""Managed services API views: one thin view per operation (input serializer → service/selector → output).

Services are found through the teams layer: another organisation's id is 404;
reading needs ``resources.read``, any write ``resources.write`` (403 for a
viewer). Services are bought with ``POST /api/v1/orders/``; here they are
read, renamed, relabelled, protected, moved to another tier, cancelled, and
their credentials revealed once.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalogue.models import Offer
from apps.core.api.pagination import list_parameters, paginate, paginated
from apps.core.api.queries import list_query
from apps.core.errors import ValidationFailed
from apps.managed import selectors, services
from apps.managed.api import serializers as s
from apps.managed.choices import SecretKind
from apps.managed.models import ManagedService, ServiceSecret
from apps.teams.api.permissions import ScopedPermission
from apps.teams.choices import Permission

P = Permission
ID = OpenApiParameter("service_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Service id.")
ERRORS = {400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT}
CONFIRM = OpenApiParameter(
    "confirm",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    description="The service's name, typed again (or `confirm` in a JSON body).",
)
REASON = OpenApiParameter(
    "reason", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False, description="Why (optional, kept)."
)


def _with_credentials(qs: QuerySet[ManagedService]) -> QuerySet[ManagedService]:
    """The credential names of a whole page in one query."""
    credentials = (
        ServiceSecret.objects.filter(kind=SecretKind.CREDENTIAL)
        .order_by("name")
        .only("id", "service_id", "name", "revealed_at")
    )
    return qs.prefetch_related(Prefetch("secrets", queryset=credentials, to_attr="credential_rows"))


class ServicesApiView(APIView):
    permission_classes = [ScopedPermission]

    def service(self, permission: Permission = P.RESOURCES_READ) -> ManagedService:
        return selectors.service_get(
            actor=self.request.user, public_id=self.kwargs["service_id"], permission=permission
        )


class ServiceListApi(ServicesApiView):
    @extend_schema(
        operation_id="services_list",
        tags=["services"],
        summary="List managed services",
        description="Every managed service (web hosting, PaaS, load balancer, CDN) you can see, newest first, "
        "ended ones included. Filter by `family`, `state`, `organisation`, `project`, `tier`, `name` and "
        "`label_selector`; sort with `sort`. An unknown parameter is a 400. Paginated (`page`, `per_page`). "
        "Services are ordered with `POST /api/v1/orders/`.",
        parameters=list_parameters(s.ServiceListQuerySerializer),
        responses=paginated(s.ServiceOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, s.ServiceListQuerySerializer)
        qs = selectors.service_list(actor=request.user, where=query.filter_q(), order_by=query.ordering())
        return paginate(request, self, _with_credentials(qs), s.ServiceOutputSerializer)


class ServiceDetailApi(ServicesApiView):
    @extend_schema(
        operation_id="services_retrieve",
        tags=["services"],
        parameters=[ID],
        responses={200: s.ServiceOutputSerializer, 404: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, service_id: str) -> Response:
        return Response(s.ServiceOutputSerializer(self.service()).data)

    @extend_schema(
        operation_id="services_update",
        tags=["services"],
        summary="Rename, relabel or protect a service",
        description="Change `name`, `labels` (replaced whole) or `delete_protection`. 409 `service_ended` "
        "once the service was cancelled or terminated.",
        parameters=[ID],
        request=s.ServiceUpdateInputSerializer,
        responses={200: s.ServiceOutputSerializer, **ERRORS},
    )
    def patch(self, request: Request, service_id: str) -> Response:
        service = self.service(P.RESOURCES_WRITE)
        data = s.ServiceUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        updated = services.service_update(service=service, actor=request.user, **data.validated_data)
        return Response(s.ServiceOutputSerializer(updated).data)

    @extend_schema(
        operation_id="services_destroy",
        tags=["services"],
        summary="Cancel a service",
        description="Ends the service for good: its backend removes it and billing stops at this moment (the "
        "hour it falls in is the last one billed). Type the service's name again as `confirm` (query "
        'parameter, or a JSON body `{"confirm": …, "reason": …}`): 400 `confirmation_mismatch` otherwise. '
        "409 `delete_protected` while delete protection is on, 409 `service_ended` when it already ended. "
        "Answers 200 with the cancelled service.",
        parameters=[ID, CONFIRM, REASON],
        request=None,
        responses={200: s.ServiceOutputSerializer, **ERRORS},
    )
    def delete(self, request: Request, service_id: str) -> Response:
        service = self.service(P.RESOURCES_WRITE)
        body = request.data if hasattr(request.data, "get") else {}
        data = s.ServiceCancelInputSerializer(
            data={
                "confirm": request.query_params.get("confirm", body.get("confirm", "")),
                "reason": request.query_params.get("reason", body.get("reason", "")),
            }
        )
        if not data.is_valid():
            raise ValidationFailed(
                _("Type the service's name to confirm."),
                code=services.ServiceErrorCode.CONFIRMATION,
                fields={"confirm": [_("Type %(name)s to confirm.") % {"name": service.name}]},
            )
        ended = services.service_cancel(
            service=service,
            actor=request.user,
            confirm_name=data.validated_data["confirm"],
            reason=data.validated_data.get("reason", ""),
        )
        return Response(s.ServiceOutputSerializer(ended).data)


class ServiceTransitionListApi(ServicesApiView):
    @extend_schema(
        operation_id="services_transitions_list",
        tags=["services"],
        summary="List a service's state changes",
        description="Its audit trail: every state change with who made it and why, oldest first.",
        parameters=[ID],
        responses=paginated(s.ServiceTransitionOutputSerializer),
    )
    def get(self, request: Request, service_id: str) -> Response:
        qs = selectors.service_transition_list(service=self.service())
        return paginate(request, self, qs, s.ServiceTransitionOutputSerializer)


class ServiceChangeTierApi(ServicesApiView):
    @extend_schema(
        operation_id="services_change_tier",
        tags=["services"],
        summary="Move a service to another tier",
        description="Another tier of the same family (400 `service_tier_family_mismatch` otherwise). The new "
        "price is billed from this moment; the service is `changing` until the tier is applied. Only an "
        "`active` service changes tier (409 otherwise).",
        parameters=[ID],
        request=s.ServiceChangeTierInputSerializer,
        responses={200: s.ServiceOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, service_id: str) -> Response:
        service = self.service(P.RESOURCES_WRITE)
        data = s.ServiceChangeTierInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        offer = Offer.objects.select_related("family").filter(code=data.validated_data["tier"]).first()
        if offer is None:
            raise ValidationFailed(_("Invalid tier."), fields={"tier": [_("Unknown tier.")]})
        changed = services.service_change_tier(service=service, actor=request.user, offer=offer)
        return Response(s.ServiceOutputSerializer(changed).data)


class ServiceRevealCredentialsApi(ServicesApiView):
    @extend_schema(
        operation_id="services_reveal_credentials",
        tags=["services"],
        summary="Reveal the delivered credentials, once",
        description="The credentials staff (or the backend) delivered, in clear, exactly once: the request is "
        "audited and a second one answers 409 `service_credentials_already_revealed` (ask support for new "
        "ones). 409 `service_no_credentials` when none were delivered. Needs `resources.write`.",
        parameters=[ID],
        request=None,
        responses={200: s.ServiceCredentialsOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, service_id: str) -> Response:
        service = self.service(P.RESOURCES_WRITE)
        values = services.service_credentials_reveal(service=service, actor=request.user)
        return Response({"credentials": values}, headers={"Cache-Control": "no-store"})
