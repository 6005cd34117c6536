"""Orders API: quotes, and orders (list, place with Idempotency-Key, retrieve, cancel).

Access goes through the teams permission layer: orders are listed and read
through ``restrict_to_actor`` (another organisation's order is a 404), and
placing or cancelling needs ``resources.write`` on the project (a viewer
gets 403).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions as drf_exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.fields import id_or_none
from apps.core.api.pagination import StandardPagination, list_parameters, paginated
from apps.core.api.queries import list_query
from apps.instances import selectors as instance_selectors
from apps.orders import selectors, services
from apps.orders.api import serializers as s
from apps.orders.models import Order
from apps.teams.access import project_list_for_actor
from apps.teams.api.permissions import ScopedPermission
from apps.teams.choices import Permission
from apps.teams.models import Project

ORDER_ID = OpenApiParameter("order_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Order id.")
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    services.IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "A unique value per intended order (a UUID is ideal), up to 255 characters. Retrying with the same key "
        "and the same body returns the first response (same status and body) and never places a second order; "
        "the same key with a different body is a 422 `idempotency_key_reused`. Keys are scoped to the organisation."
    ),
)

_QUOTE_REQUEST = {"offer": "GPU-STARTER", "datacentre": "PAR-1", "image": "ubuntu-24.04"}
_QUOTE_RESPONSE: dict[str, Any] = {
    "offer": "GPU-STARTER",
    "datacentre": "PAR-1",
    "image": "ubuntu-24.04",
    "gpu_stack": None,
    "price_hourly": "0.850000",
    "price_monthly": "469.00",
    "currency": "EUR",
    "billing_unit": "month",
    "availability": "limited",
    "available_count": 2,
    "unavailable_reason": "",
    "orderable": True,
    "problems": {},
}
_ORDER_REQUEST = {
    "project": 12,
    "offer": "VPS-NANO",
    "datacentre": "PAR-1",
    "image": "ubuntu-24.04",
    "name": "web-1",
    "ssh_keys": ["5b0d7c1e-9a43-4f4e-8a55-1c9e0c6f3d21"],
    "user_data": "#cloud-config\npackages: [nginx]\n",
    "labels": {"env": "prod"},
    "network_ids": ["0b6f3c52-3d0e-4c5f-9d0e-6a1d2b3c4d5e"],
    "firewall_ids": ["9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"],
    "volumes": [{"size_gb": 50, "tier": "STORAGE-NVME"}],
}
_SERVICE_ORDER_REQUEST = {
    "project": 12,
    "offer": "WEB-BUSINESS",
    "datacentre": "PAR-1",
    "name": "shop",
    "service": {"domain": "shop.example.com", "runtime": "php", "version": "8.3", "app": "wordpress"},
}
_ORDER_RESPONSE: dict[str, Any] = {
    "id": "0d7f1f7e-3c1b-4f8e-9a51-2a7d0e5c9b10",
    "organisation": 7,
    "project": 12,
    "state": "provisioning",
    "offer": "VPS-NANO",
    "datacentre": "PAR-1",
    "image": "ubuntu-24.04",
    "gpu_stack": None,
    "name": "web-1",
    "ssh_keys": ["5b0d7c1e-9a43-4f4e-8a55-1c9e0c6f3d21"],
    "user_data_size": 34,
    "labels": {"env": "prod"},
    "network_ids": ["0b6f3c52-3d0e-4c5f-9d0e-6a1d2b3c4d5e"],
    "firewall_ids": ["9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"],
    "volumes": [{"size_gb": 50, "tier": "STORAGE-NVME"}],
    "options_status": "",
    "options_errors": [],
    "price_hourly": "0.039700",
    "price_monthly": "29.00",
    "currency": "EUR",
    "instance": "8a3e4c2d-6b1f-4d0e-9c7a-5e2f1b3d4a6c",
    "service": None,
    "service_config": {},
    "fulfilment_status": "",
    "fulfilment_notes": "",
    "rejection_reason": "",
    "error_message": "",
    "cancellable": False,
    "history": [
        {"from_state": "", "to_state": "pending", "reason": "Order placed.", "created_at": "2026-01-05T10:00:00Z"},
        {
            "from_state": "pending",
            "to_state": "provisioning",
            "reason": "Order accepted.",
            "created_at": "2026-01-05T10:00:00Z",
        },
    ],
    "created_at": "2026-01-05T10:00:00Z",
    "updated_at": "2026-01-05T10:00:00Z",
}

_ORDER_CREATE_RESPONSE: dict[str, Any] = {
    **_ORDER_RESPONSE,
    "action": {
        "id": "5b0f3c1e-8d6e-4a52-9a41-0d6f4c1e2a7b",
        "instance_id": "8a3e4c2d-6b1f-4d0e-9c7a-5e2f1b3d4a6c",
        "type": "create",
        "status": "pending",
        "progress": 0,
        "created_at": "2026-01-05T10:00:00Z",
        "started_at": None,
        "finished_at": None,
        "error": None,
    },
    "links": {
        "actions": [
            {
                "id": "5b0f3c1e-8d6e-4a52-9a41-0d6f4c1e2a7b",
                "rel": "create",
                "href": "https://api.vmcloud.eu/api/v1/actions/5b0f3c1e-8d6e-4a52-9a41-0d6f4c1e2a7b/",
            }
        ]
    },
}


class OrdersApiView(APIView):
    permission_classes = [ScopedPermission]


class QuoteApi(APIView):
    """Public: prices and availability are public in the catalogue too."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="quotes_create",
        tags=["quotes"],
        summary="Price and availability of a configuration",
        description=(
            "Returns the hourly rate and the monthly cap that an order of this configuration would freeze, and "
            "live availability from placement. Creates nothing and reserves nothing: availability may change "
            "before you order. Problems with the configuration (offer not sold there, image too large) are listed "
            "in `errors` with a 200, so a wizard can show them beside the price; unknown codes are a 400."
        ),
        request=s.QuoteInputSerializer,
        responses=s.QuoteOutputSerializer,
        examples=[
            OpenApiExample("GPU server in Paris", value=_QUOTE_REQUEST, request_only=True),
            OpenApiExample("Quote", value=_QUOTE_RESPONSE, response_only=True),
        ],
    )
    def post(self, request: Request) -> Response:
        data = s.QuoteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        quote = selectors.quote_build(**data.validated_data)
        return Response(s.QuoteOutputSerializer(quote).data)


class OrderListApi(OrdersApiView):
    def _project(self, project_id: Any) -> Project | None:
        """The project named in the body if the actor can see it (else None: "unknown", like a missing one)."""
        pk = id_or_none(project_id)  # bounded: a 20-digit id is "unknown", never a database overflow
        if pk is None:
            return None
        return (
            project_list_for_actor(
                actor=self.request.user, permission=Permission.RESOURCES_READ, include_suspended=True
            )
            .filter(pk=pk)
            .first()
        )

    @extend_schema(
        operation_id="orders_list",
        tags=["orders"],
        summary="List orders",
        description="Orders of the projects you can see, newest first. Filter by `organisation`, `project`, "
        "`state`, `offer`, `datacentre` and `name`; sort with `sort`. An unknown parameter is a 400. "
        "Paginated (`Link` and `X-Total-Count` headers).",
        parameters=list_parameters(s.OrderListQuerySerializer),
        responses=paginated(s.OrderOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, s.OrderListQuerySerializer)
        qs = query.apply(selectors.order_list(actor=request.user))
        paginator = StandardPagination()
        page = paginator.paginate_queryset(qs.prefetch_related("transitions"), request, view=self)
        return paginator.get_paginated_response(s.OrderOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="orders_create",
        tags=["orders"],
        summary="Place an order",
        description=(
            "Validates the order, reserves capacity (nothing is created or charged when there is none: 409 "
            "`no_capacity`), freezes the price and starts delivery.\n\n"
            "* **202**: provisioning started (a server is being built, or a managed service was created and is "
            "queued for our staff: its id is `service`, see `GET /api/v1/services/{id}/`); follow the order with "
            "`GET /api/v1/orders/{id}/`.\n"
            "* **201**: the order waits for staff approval (`awaiting_approval`); capacity stays reserved.\n\n"
            "A managed offer takes a `service` object with its family's fields (a domain, a repository, an "
            "origin, forwarding rules…), checked against the tier's limits (400 naming `service.<field>`), and no "
            "`image`, `ssh_keys` or `user_data`.\n\n"
            "A server's options: `labels` are set when it is created; `network_ids`, `firewall_ids` and `volumes` "
            "are checked now (400 naming the field: another datacentre, another project, an unknown id, a size "
            "out of limits) and applied once the server runs; follow `options_status` and `options_errors` on "
            "the order (a refused option never removes the server).\n\n"
            "A server's order answers with `action`, the Action that builds it (poll "
            "`GET /api/v1/actions/{id}/`), also linked from `links.actions`; both are empty while nothing is "
            "being built.\n\n"
            "Needs `resources.write` on the project (a viewer gets 403). Quotas: 403 `quota_exceeded`. "
            "Send an `Idempotency-Key` header to retry safely."
        ),
        parameters=[IDEMPOTENCY_PARAMETER],
        request=s.OrderCreateInputSerializer,
        responses={
            201: OpenApiResponse(s.OrderCreateOutputSerializer, description="Placed; awaiting staff approval."),
            202: OpenApiResponse(s.OrderCreateOutputSerializer, description="Placed; provisioning started."),
        },
        examples=[
            OpenApiExample("A VPS in Paris", value=_ORDER_REQUEST, request_only=True),
            OpenApiExample("Web hosting with its domain", value=_SERVICE_ORDER_REQUEST, request_only=True),
            OpenApiExample("Provisioning", value=_ORDER_CREATE_RESPONSE, response_only=True, status_codes=["202"]),
        ],
    )
    def post(self, request: Request) -> Response:
        data = s.OrderCreateInputSerializer(data=request.data)

        def validate() -> dict[str, Any]:
            if not data.is_valid():
                raise drf_exceptions.ValidationError(data.errors)
            values: dict[str, Any] = dict(data.validated_data)
            values.pop("project")
            # A managed service has no image: the field is optional, the service's argument is not.
            values.setdefault("image", None)
            return values

        def render(order: Order) -> dict[str, Any]:
            order = selectors.order_get(actor=request.user, order_id=order.public_id)
            action = instance_selectors.action_of_creation(actor=request.user, instance_id=order.instance_id)
            return dict(s.OrderCreateOutputSerializer(order, context={"request": request, "action": action}).data)

        code, body = services.order_submit(
            actor=request.user,
            project=self._project(request.data.get("project") if isinstance(request.data, dict) else None),
            idempotency_key=request.headers.get(services.IDEMPOTENCY_HEADER),
            body=request.data,
            validate=validate,
            render=render,
        )
        return Response(body, status=code)


class OrderDetailApi(OrdersApiView):
    @extend_schema(
        operation_id="orders_retrieve",
        tags=["orders"],
        summary="Get an order",
        description="State, frozen prices, the server once created, fulfilment notes for managed services, "
        "the rejection reason if staff refused it, and the history of its states.",
        parameters=[ORDER_ID],
        responses=s.OrderOutputSerializer,
        examples=[OpenApiExample("Provisioning", value=_ORDER_RESPONSE, response_only=True)],
    )
    def get(self, request: Request, order_id: str) -> Response:
        order = selectors.order_get(actor=request.user, order_id=order_id)
        return Response(s.OrderOutputSerializer(order).data)


class OrderCancelApi(OrdersApiView):
    @extend_schema(
        operation_id="orders_cancel",
        tags=["orders"],
        summary="Cancel an order",
        description="Possible while the order is pending, awaiting approval or failed, and for a managed "
        "service's order while it is queued (our staff have not started on it: its service is cancelled too, "
        "never billed); 409 `order_not_cancellable` otherwise (a delivered service is cancelled on "
        "`DELETE /api/v1/services/{id}/`). Reserved capacity is released at once.",
        parameters=[ORDER_ID],
        request=s.OrderCancelInputSerializer,
        responses=s.OrderOutputSerializer,
    )
    def post(self, request: Request, order_id: str) -> Response:
        data = s.OrderCancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = selectors.order_get(actor=request.user, order_id=order_id, permission=Permission.RESOURCES_WRITE)
        order = services.order_cancel(order=order, actor=request.user, reason=data.validated_data["reason"])
        order = selectors.order_get(actor=request.user, order_id=order.public_id)
        return Response(s.OrderOutputSerializer(order).data)
