"""Orders API serializers: inputs validate shapes and resolve codes; outputs render quotes and orders.

Money is a decimal string in EUR excluding VAT, as in the catalogue API.
Catalogue objects are addressed by their public codes (offer ``VPS-NANO``,
datacentre ``PAR-1``, image ``ubuntu-24.04``).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.catalogue.models import Datacentre, GpuSoftwareStack, Offer, OsImage
from apps.core.api.fields import IdField
from apps.core.api.queries import ListQuerySerializer, multiple_choice
from apps.instances.models import Action
from apps.orders import choices
from apps.orders.models import Order, OrderTransition


# ---------------------------------------------------------------------------
# Quotes
# ---------------------------------------------------------------------------
class QuoteInputSerializer(serializers.Serializer):
    offer = serializers.SlugRelatedField(
        slug_field="code", queryset=Offer.objects.select_related("family"), help_text=_("Offer code, e.g. VPS-NANO.")
    )
    datacentre = serializers.SlugRelatedField(
        slug_field="code", queryset=Datacentre.objects.all(), help_text=_("Datacentre code, e.g. PAR-1.")
    )
    image = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=OsImage.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("OS image slug, e.g. ubuntu-24.04. Required for servers, not for managed services."),
    )
    gpu_stack = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=GpuSoftwareStack.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("GPU software stack slug (GPU offers only), built on the chosen image."),
    )


class QuoteOutputSerializer(serializers.Serializer):
    offer = serializers.CharField(source="offer.code")
    datacentre = serializers.CharField(source="datacentre.code")
    image = serializers.CharField(source="image.slug", allow_null=True, default=None)
    gpu_stack = serializers.CharField(source="gpu_stack.slug", allow_null=True, default=None)
    price_hourly = serializers.DecimalField(max_digits=12, decimal_places=6)
    price_monthly = serializers.DecimalField(max_digits=10, decimal_places=2, help_text=_("Cap per calendar month."))
    currency = serializers.CharField()
    billing_unit = serializers.CharField(help_text=_("`month`, or `gb_month` for block storage (prices per GB)."))
    availability = serializers.ChoiceField(
        choices=["available", "limited", "unavailable", "on_request"],
        help_text=_("`on_request`: a managed service, delivered by our staff."),
    )
    available_count = serializers.IntegerField(allow_null=True)
    unavailable_reason = serializers.CharField(help_text=_("A stable code when unavailable, e.g. `no_capacity`."))
    orderable = serializers.BooleanField()
    problems = serializers.DictField(
        source="errors",
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Why this configuration cannot be ordered, by field (empty when it can)."),
    )


# ---------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------
class OrderVolumeInputSerializer(serializers.Serializer):
    size_gb = serializers.IntegerField(help_text=_("Size in GB, within the volumes' limits."))
    tier = serializers.CharField(
        max_length=64, help_text=_("A block storage tier's offer code sold in the datacentre.")
    )


class OrderCreateInputSerializer(QuoteInputSerializer):
    project = IdField(help_text=_("Project id; the order belongs to its organisation."))
    name = serializers.CharField(
        max_length=253, help_text=_("Hostname (RFC 1123: letters, digits, hyphens), or the service's name.")
    )
    ssh_keys = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=20, help_text=_("SSH key ids.")
    )
    user_data = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text=_(
            "Optional cloud-init user-data (servers only), at most 64 KiB of UTF-8, starting with `#cloud-config` "
            "(YAML mapping), `#!` (a script), `#include`, `#cloud-boothook` or `Content-Type: multipart/`. "
            "Delivered as cloud-init vendor-data: the hostname, SSH keys and password reset keep working. "
            "400 `invalid_user_data` when malformed, `user_data_unavailable` where the datacentre cannot deliver it."
        ),
    )

    service = serializers.DictField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            "Managed services only (web hosting, PaaS, load balancer, CDN): what the service needs, by family "
            "(apps/docs/content/web-hosting.md, paas.md, cdn.md, load-balancers.md). Web hosting: `domain`, "
            "`runtime`, `version`, optional `app` (1-click) and `extra_domains`. PaaS: `source` "
            '(`{"kind": "git", "url", "branch"}` or `{"kind": "image", "image"}`), `environment` '
            "(dev, staging, prod), `env` (`[{name, value}]`, values stored encrypted and never shown again), "
            "`containers`, `ram_gb`. CDN: `origin` (`{kind: url|server|load_balancer, url | id}`), `hostnames`, "
            "`cache_rules` (`[{path, ttl}]`), `waf`. Load balancer: `rules` (`[{protocol, port, "
            "target_protocol, target_port}]`), `targets` (`[{kind: server, id}]` or `[{kind: label_selector, "
            "label_selector}]`). The tier's limits apply; problems are 400s naming `service.<field>`. "
            "Servers take no service object, and managed services take no image, ssh_keys or user_data."
        ),
    )
    labels = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        default=dict,
        help_text=_(
            "Servers only: labels set on the server when it is created (apps/docs/content/api-overview.md, "
            '"Labels and label selectors"); firewalls selecting them apply once it runs.'
        ),
    )
    network_ids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        default=list,
        max_length=8,
        help_text=_(
            "Servers only: private networks to join once the server runs, ids of the project's networks in the "
            "chosen datacentre, available (400 `network_ids` otherwise)."
        ),
    )
    firewall_ids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        default=list,
        max_length=5,
        help_text=_("Servers only: firewalls of the project to apply to the server once it runs."),
    )
    volumes = OrderVolumeInputSerializer(  # type: ignore[call-arg]  # ListSerializer takes max_length (DRF 3.14)
        many=True,
        required=False,
        default=list,
        max_length=3,
        help_text=_(
            "Servers only: at most 3 volumes created and attached once the server runs (billed as volumes), "
            "named `<name>-vol1`…"
        ),
    )


class OrderListQuerySerializer(ListQuerySerializer):
    """Filters of ``GET /api/v1/orders/`` (``apps.core.api.queries``: an unknown parameter is a 400)."""

    lookups = {
        "organisation": "organisation_id",
        "project": "project_id",
        "state": "state__in",
        "offer": "offer__code",
        "datacentre": "datacentre__code",
        "name": "name",
    }
    sort_fields = {"created_at": "created_at", "updated_at": "updated_at", "state": "state", "name": "name"}

    organisation = IdField(required=False, help_text=_("Only this organisation's orders."))
    project = IdField(required=False, help_text=_("Only this project's orders."))
    state = multiple_choice(choices.OrderState.choices, help_text=_("Only orders in this state; repeat for several."))
    offer = serializers.CharField(required=False, max_length=64, help_text=_("Offer code, e.g. VPS-NANO."))
    datacentre = serializers.CharField(required=False, max_length=32, help_text=_("Datacentre code, e.g. PAR-1."))
    name = serializers.CharField(required=False, max_length=100, help_text=_("Exact name."))


class OrderCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class OrderTransitionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderTransition
        fields = ["from_state", "to_state", "reason", "created_at"]


class OrderOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    organisation = serializers.IntegerField(source="organisation_id", read_only=True)
    project = serializers.IntegerField(source="project_id", read_only=True)
    offer = serializers.CharField(source="offer.code", read_only=True)
    datacentre = serializers.CharField(source="datacentre.code", read_only=True)
    image = serializers.SerializerMethodField()
    gpu_stack = serializers.SerializerMethodField()
    ssh_keys = serializers.ListField(source="ssh_key_ids", child=serializers.UUIDField(), read_only=True)
    user_data_size = serializers.SerializerMethodField()
    state = serializers.ChoiceField(choices=choices.OrderState.choices, read_only=True)
    fulfilment_status = serializers.ChoiceField(choices=choices.FulfilmentStatus.choices, read_only=True)
    instance = serializers.SerializerMethodField()
    service = serializers.SerializerMethodField()
    service_config = serializers.JSONField(
        read_only=True, help_text=_("A managed service's configuration as ordered (never its secrets).")
    )
    labels = serializers.DictField(child=serializers.CharField(), read_only=True)
    network_ids = serializers.ListField(child=serializers.UUIDField(), read_only=True)
    firewall_ids = serializers.ListField(child=serializers.UUIDField(), read_only=True)
    volumes = OrderVolumeInputSerializer(many=True, read_only=True)
    options_status = serializers.ChoiceField(
        choices=choices.OptionsStatus.choices,
        read_only=True,
        help_text=_("Networks, firewalls and volumes: empty (none), pending, applying, applied or failed."),
    )
    options_errors = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text=_("The options that could not be applied, and why.")
    )
    cancellable = serializers.BooleanField(source="is_cancellable", read_only=True)
    history = OrderTransitionOutputSerializer(source="transitions", many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "organisation",
            "project",
            "state",
            "offer",
            "datacentre",
            "image",
            "gpu_stack",
            "name",
            "ssh_keys",
            "user_data_size",
            "labels",
            "network_ids",
            "firewall_ids",
            "volumes",
            "options_status",
            "options_errors",
            "price_hourly",
            "price_monthly",
            "currency",
            "instance",
            "service",
            "service_config",
            "fulfilment_status",
            "fulfilment_notes",
            "rejection_reason",
            "error_message",
            "cancellable",
            "history",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_image(self, order: Order) -> str | None:
        return order.image.slug if order.image_id and order.image else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_gpu_stack(self, order: Order) -> str | None:
        return order.gpu_stack.slug if order.gpu_stack_id and order.gpu_stack else None

    @extend_schema_field(serializers.IntegerField())
    def get_user_data_size(self, order: Order) -> int:
        return len(order.user_data.encode("utf-8"))

    @extend_schema_field(serializers.UUIDField(allow_null=True, help_text="The server's id once created."))
    def get_instance(self, order: Order) -> Any:
        instance = getattr(order, "instance", None)
        return str(instance.public_id) if instance is not None else None

    @extend_schema_field(
        serializers.UUIDField(allow_null=True, help_text="The managed service's id once the order started.")
    )
    def get_service(self, order: Order) -> Any:
        service = getattr(order, "service", None) if order.service_id else None
        return str(service.public_id) if service is not None else None


class OrderActionOutputSerializer(serializers.ModelSerializer):
    """The Action that builds the server: the same object as ``GET /api/v1/actions/{id}/``."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    instance_id = serializers.UUIDField(source="instance.public_id", read_only=True, allow_null=True)
    error = serializers.SerializerMethodField()

    class Meta:
        model = Action
        fields = ["id", "instance_id", "type", "status", "progress", "created_at", "started_at", "finished_at", "error"]

    @extend_schema_field(serializers.DictField(child=serializers.CharField(), allow_null=True))
    def get_error(self, obj: Action) -> dict[str, str] | None:
        if obj.status != "error":
            return None
        return {"code": obj.error_code, "message": obj.error_message}


class OrderActionLinkOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text=_("The action's id."))
    rel = serializers.CharField(help_text=_("What the action does: `create`."))
    href = serializers.URLField(help_text=_("Poll this URL until `status` is `success` or `error`."))


class OrderLinksOutputSerializer(serializers.Serializer):
    actions = OrderActionLinkOutputSerializer(many=True)


class OrderCreateOutputSerializer(OrderOutputSerializer):
    """The order as placed, with the Action that builds its server (Hetzner's ``action``, DigitalOcean's
    ``links.actions``); ``action`` is null and ``links.actions`` empty while nothing is being built
    (awaiting approval, managed services)."""

    action = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta(OrderOutputSerializer.Meta):
        fields = [*OrderOutputSerializer.Meta.fields, "action", "links"]
        read_only_fields = fields

    @extend_schema_field(OrderActionOutputSerializer(allow_null=True))
    def get_action(self, order: Order) -> dict[str, Any] | None:
        action = self.context.get("action")
        return dict(OrderActionOutputSerializer(action).data) if action is not None else None

    @extend_schema_field(OrderLinksOutputSerializer)
    def get_links(self, order: Order) -> dict[str, Any]:
        action = self.context.get("action")
        request = self.context.get("request")
        if action is None:
            return {"actions": []}
        href = f"/api/v1/actions/{action.public_id}/"
        return {
            "actions": [
                {
                    "id": str(action.public_id),
                    "rel": action.type,
                    "href": request.build_absolute_uri(href) if request is not None else href,
                }
            ]
        }
