"""Load balancer API views, under the service: ``/api/v1/services/{service_id}/load-balancer/…``.

A load balancer is a managed service (``/api/v1/services/``: name, labels, state, tier, cancel);
these routes read and change what it runs. Another organisation's service, or a service of
another family, is 404; reading needs ``resources.read``, every change ``resources.write``.
Every change answers the load balancer with ``config_generation`` bumped; the configuration is
applied to the VM in the background (``applied_generation`` catches up).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import NotFound
from apps.loadbalancers import services
from apps.loadbalancers.api import serializers as s
from apps.loadbalancers.models import LoadBalancer
from apps.managed import selectors as managed_selectors
from apps.teams.api.permissions import ScopedPermission
from apps.teams.choices import Permission

P = Permission
ID = OpenApiParameter("service_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Service id.")
ERRORS = {400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT}
TAGS = ["load-balancers"]


class LoadBalancerApiView(APIView):
    permission_classes = [ScopedPermission]

    def load_balancer(self, permission: Permission = P.RESOURCES_READ) -> LoadBalancer:
        service = managed_selectors.service_get(
            actor=self.request.user, public_id=self.kwargs["service_id"], permission=permission
        )
        lb = (
            LoadBalancer.objects.select_related("service", "service__offer", "datacentre", "certificate")
            .filter(service=service)
            .first()
        )
        if lb is None:
            raise NotFound(_("This service is not a load balancer (or is not built yet)."))
        return lb

    def change(self, serializer_class: type[Any], call: Callable[[LoadBalancer, dict[str, Any]], Any]) -> Response:
        """A write: the load balancer (``resources.write``), the body checked, the service called, the answer."""
        lb = self.load_balancer(P.RESOURCES_WRITE)
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        call(lb, data.validated_data)
        return self.answer(lb)

    def answer(self, lb: LoadBalancer) -> Response:
        fresh = LoadBalancer.objects.select_related("service", "datacentre", "certificate").get(pk=lb.pk)
        return Response(s.LoadBalancerOutputSerializer(fresh).data)


class LoadBalancerDetailApi(LoadBalancerApiView):
    @extend_schema(
        operation_id="load_balancers_retrieve",
        tags=TAGS,
        summary="Read a load balancer",
        description="Its rules, targets, health check, settings, certificate (names and expiry, never the key), "
        "the generation applied to its VM and the servers it balances with their health as HAProxy last "
        "reported it (`unknown` when it could not be read).",
        parameters=[ID],
        responses={200: s.LoadBalancerOutputSerializer, 404: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, service_id: str) -> Response:
        return self.answer(self.load_balancer())


class LoadBalancerRulesApi(LoadBalancerApiView):
    @extend_schema(
        operation_id="load_balancers_rules_set",
        tags=TAGS,
        summary="Replace the forwarding rules",
        description="`rules`: `[{protocol, port, target_protocol, target_port}]`, protocols as the tier allows "
        "(400 with `rules.<n>.<field>` otherwise). HTTPS rules that terminate TLS wait for a certificate.",
        parameters=[ID],
        request=s.LbRulesInputSerializer,
        responses={200: s.LoadBalancerOutputSerializer, **ERRORS},
    )
    def put(self, request: Request, service_id: str) -> Response:
        return self.change(
            s.LbRulesInputSerializer,
            lambda lb, data: services.lb_rules_set(actor=request.user, load_balancer=lb, rules=data["rules"]),
        )


class LoadBalancerTargetsApi(LoadBalancerApiView):
    @extend_schema(
        operation_id="load_balancers_targets_set",
        tags=TAGS,
        summary="Replace the targets",
        description='`targets`: `[{"kind": "server", "id": …} | {"kind": "label_selector", "label_selector": '
        '"role=web"}]`. Servers with the label join and leave the pool as they are created and deleted. The '
        "tier's backend count is enforced.",
        parameters=[ID],
        request=s.LbTargetsInputSerializer,
        responses={200: s.LoadBalancerOutputSerializer, **ERRORS},
    )
    def put(self, request: Request, service_id: str) -> Response:
        return self.change(
            s.LbTargetsInputSerializer,
            lambda lb, data: services.lb_targets_set(actor=request.user, load_balancer=lb, targets=data["targets"]),
        )


class LoadBalancerHealthCheckApi(LoadBalancerApiView):
    @extend_schema(
        operation_id="load_balancers_health_check_set",
        tags=TAGS,
        summary="Change the health check",
        description="Fields left out keep their value: protocol (tcp, http, https), port (null: the rule's "
        "target port), path and host (HTTP checks), interval_seconds, timeout_seconds, rise, fall.",
        parameters=[ID],
        request=s.LbHealthCheckSerializer,
        responses={200: s.LoadBalancerOutputSerializer, **ERRORS},
    )
    def put(self, request: Request, service_id: str) -> Response:
        return self.change(
            s.LbHealthCheckSerializer,
            lambda lb, data: services.lb_health_check_set(actor=request.user, load_balancer=lb, health_check=data),
        )


class LoadBalancerCertificateApi(LoadBalancerApiView):
    @extend_schema(
        operation_id="load_balancers_certificate_upload",
        tags=TAGS,
        summary="Upload the TLS certificate",
        description="PEM `certificate`, `chain` (intermediates) and `private_key` (RSA ≥ 2048 bits or EC "
        "P-256/384/521, not encrypted), checked together (400 with `certificate`, `chain`, `private_key`). "
        "The key is stored encrypted and never shown again; TLS is terminated with it from now on.",
        parameters=[ID],
        request=s.LbCertificateInputSerializer,
        responses={200: s.LoadBalancerOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, service_id: str) -> Response:
        return self.change(
            s.LbCertificateInputSerializer,
            lambda lb, data: services.lb_certificate_upload(actor=request.user, load_balancer=lb, **data),
        )


class LoadBalancerSettingsApi(LoadBalancerApiView):
    @extend_schema(
        operation_id="load_balancers_settings_update",
        tags=TAGS,
        summary="Change sticky sessions, the HTTP→HTTPS redirect, the PROXY protocol or the TLS mode",
        description="`sticky_sessions`: `{cookie_name, ttl_seconds}` or null (off); `redirect_http_to_https`; "
        "`proxy_protocol` (the targets receive the PROXY header); `tls_mode`: terminate or passthrough.",
        parameters=[ID],
        request=s.LbSettingsInputSerializer,
        responses={200: s.LoadBalancerOutputSerializer, **ERRORS},
    )
    def patch(self, request: Request, service_id: str) -> Response:
        return self.change(
            s.LbSettingsInputSerializer,
            lambda lb, data: services.lb_settings_update(actor=request.user, load_balancer=lb, **data),
        )


class LoadBalancerReadHealthApi(LoadBalancerApiView):
    @extend_schema(
        operation_id="load_balancers_read_health",
        tags=TAGS,
        summary="Read the targets' health now",
        description="Asks HAProxy on the load balancer's VM (its stats socket, through the guest agent) and "
        "answers the load balancer with each target's health: up, down, maint, or unknown when it cannot be "
        "read. Never invented. Needs resources.write (it runs a command on the VM); GET shows the last answer.",
        parameters=[ID],
        request=None,
        responses={200: s.LoadBalancerOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, service_id: str) -> Response:
        # It runs a command on the load balancer's VM: a write, as in the portal (viewers read the last answer).
        lb = self.load_balancer(P.RESOURCES_WRITE)
        services.lb_health_read(lb_id=lb.pk)
        return self.answer(lb)
