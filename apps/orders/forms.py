"""Portal forms of orders: the order wizard (choices scoped to the organisation and the catalogue)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.catalogue import choices as catalogue_choices
from apps.catalogue import selectors as catalogue_selectors
from apps.catalogue.models import Datacentre, GpuSoftwareStack, Offer, OsImage
from apps.core.actors import Actor
from apps.core.formats import money_per
from apps.infrastructure.selectors import availability_matrix
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance, SshKey
from apps.managed import validation as service_validation
from apps.managed.choices import ENDED_STATES, ServiceFamily
from apps.managed.models import ManagedService
from apps.orders.validation import is_vm_offer
from apps.teams.access import project_list_for_actor
from apps.teams.choices import Permission
from apps.teams.models import Organisation, Project


class OfferChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        offer: Offer = obj
        return f"{offer.family.name} · {offer.code} — {money_per(offer.price_monthly, str(_('month')))}"


class ImageChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class StackChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        stack: GpuSoftwareStack = obj
        return f"{stack.name} (cuDNN {stack.cudnn_version}, TensorRT {stack.tensorrt_version})"


class OrderForm(forms.Form):
    """What the wizard asks; ``order_place`` does the real validation (its field errors land here too).

    The datacentre, image and GPU stack choices follow the chosen plan: only
    datacentres where it is sold and can be built, and only the images (and,
    for GPU plans, software stacks) a template there builds (availability is
    per offer, datacentre and image: apps/docs/content/ordering.md).
    """

    offer = OfferChoiceField(label=_("Plan"), queryset=Offer.objects.none(), to_field_name="code")
    datacentre = forms.ModelChoiceField(label=_("Datacentre"), queryset=Datacentre.objects.none(), to_field_name="code")
    image = ImageChoiceField(
        label=_("Operating system"),
        queryset=OsImage.objects.none(),
        to_field_name="slug",
        required=False,
        help_text=_("Servers only: the images we can build for this plan in this datacentre."),
    )
    gpu_stack = StackChoiceField(
        label=_("GPU software stack"),
        queryset=GpuSoftwareStack.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label=_("None: the OS with the NVIDIA driver only"),
        help_text=_(
            "GPU plans only: CUDA, cuDNN, TensorRT, PyTorch, TensorFlow, JAX, Jupyter Lab and Docker with the "
            "NVIDIA Container Toolkit, preinstalled on the chosen image."
        ),
    )
    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.none())
    name = forms.CharField(
        label=_("Name"),
        max_length=253,
        help_text=_("Servers: a hostname such as web-1 (lower-case letters, digits, hyphens). Services: a name."),
    )
    ssh_keys = forms.ModelMultipleChoiceField(
        label=_("SSH keys"),
        queryset=SshKey.objects.none(),
        to_field_name="public_id",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    user_data = forms.CharField(
        label=_("Cloud-init user-data (optional)"),
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 6, "spellcheck": "false", "placeholder": "#cloud-config\npackages: [nginx]"}
        ),
        help_text=_(
            "Servers only. A #cloud-config document, a #! script, #include, #cloud-boothook or a MIME multipart "
            "message, 64 KiB at most; cloud-init runs it at first boot. Your hostname and SSH keys are set as usual."
        ),
    )
    # One key per rendered form: submitting it twice places one order (Idempotency-Key).
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    # Fields the plan decides (rendered by orders/_order_choices.html, refreshed when the plan changes):
    # where and what to build, then what the plan's family needs (a server: SSH keys and cloud-init; a
    # managed service: its family's fields, added by ``_add_service_fields``).
    CHOICE_FIELDS = ("datacentre", "image", "gpu_stack")
    SERVER_FIELDS = ("ssh_keys", "user_data")

    def clean_user_data(self) -> str:
        # Browsers send textareas with CRLF line ends; a "#!/bin/sh\r" script would not run.
        return str(self.cleaned_data.get("user_data") or "").replace("\r\n", "\n")

    def __init__(
        self, *args: Any, organisation: Organisation, actor: Actor, selection: Any = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        # Block storage tiers are sold as volumes (their own page), not through an order.
        offers = (
            catalogue_selectors.offer_list_public()
            .exclude(billing_unit=catalogue_choices.BillingUnit.GB_MONTH)
            .select_related("family")
        )
        self.fields["offer"].queryset = offers  # type: ignore[attr-defined]
        projects = project_list_for_actor(actor=actor, organisation=organisation, permission=Permission.RESOURCES_WRITE)
        self.fields["project"].queryset = projects  # type: ignore[attr-defined]
        default = projects.filter(is_default=True).first()
        if default is not None and not self.is_bound:
            self.initial.setdefault("project", default.pk)
        self.fields["ssh_keys"].queryset = SshKey.objects.filter(organisation=organisation).order_by("name")  # type: ignore[attr-defined]
        if not self.is_bound and selection:
            self.initial.setdefault("offer", selection.get("offer"))
        data = selection if selection is not None else (self.data if self.is_bound else {})
        self._restrict_choices(offers, data)
        self.service_family = (
            service_validation.service_family_of(self.offer_obj) if self.offer_obj is not None else None
        )
        if self.offer_obj is not None and not self.is_vm:
            # A managed service takes no SSH keys nor cloud-init: those fields are not even in the form.
            for name in self.SERVER_FIELDS:
                del self.fields[name]
        if self.service_family is not None and self.offer_obj is not None:
            self.service_fields = service_fields_add(
                self, family=self.service_family, offer=self.offer_obj, organisation=organisation
            )
        else:
            self.service_fields = []
        if not self.is_bound and selection is not None:
            # The partial re-renders the form unbound: keep what the customer typed in the fields it redraws.
            for name in [*self.SERVER_FIELDS, *self.service_fields]:
                if name in self.fields and name in selection:
                    getlist = getattr(selection, "getlist", None)
                    multiple = isinstance(self.fields[name], forms.MultipleChoiceField)
                    self.initial[name] = getlist(name) if getlist and multiple else selection.get(name)

    def _restrict_choices(self, offers: Any, data: Any) -> None:
        """Datacentres, images and stacks the chosen plan can really be built with (availability selectors)."""
        self.offer_obj = offers.filter(code=data.get("offer") or "").first() if data.get("offer") else None
        self.datacentre_obj = None
        self.image_obj = None
        self.is_vm = bool(self.offer_obj is not None and is_vm_offer(self.offer_obj))
        self.is_gpu = bool(self.is_vm and self.offer_obj is not None and self.offer_obj.is_gpu)
        dc_field = self.fields["datacentre"]
        image_field = self.fields["image"]
        stack_field = self.fields["gpu_stack"]
        if self.offer_obj is None:
            dc_field.queryset = Datacentre.objects.none()  # type: ignore[attr-defined]
            return
        offer = self.offer_obj
        datacentres = [
            dc for dc in catalogue_selectors.datacentre_list() if dc.is_operational and offer_sold_in(offer, dc)
        ]
        matrix = availability_matrix(offers=[offer], datacentres=datacentres) if datacentres else {}
        if self.is_vm:
            # A datacentre without any template for this plan cannot build it: not proposed.
            datacentres = [dc for dc in datacentres if matrix[(offer.pk, dc.pk)].images]
        dc_field.queryset = Datacentre.objects.filter(pk__in=[dc.pk for dc in datacentres]).order_by(  # type: ignore[attr-defined]
            "position", "code"
        )
        chosen_dc = next((dc for dc in datacentres if dc.code == data.get("datacentre")), None)
        if chosen_dc is None and len(datacentres) == 1:
            chosen_dc = datacentres[0]
        self.datacentre_obj = chosen_dc
        if not self.is_bound:
            # The partial re-renders the form unbound: keep what the customer chose, where it is still offered.
            self.initial["datacentre"] = chosen_dc.code if chosen_dc is not None else None
        if not self.is_vm or chosen_dc is None:
            return
        choices = matrix[(offer.pk, chosen_dc.pk)].images
        image_field.required = True
        image_field.queryset = catalogue_selectors.image_list().filter(  # type: ignore[attr-defined]
            pk__in={c.image_id for c in choices}
        )
        image = image_field.queryset.filter(slug=data.get("image") or "").first() if data.get("image") else None  # type: ignore[attr-defined]
        self.image_obj = image
        if not self.is_bound:
            self.initial["image"] = image.slug if image is not None else None
        if self.is_gpu and image is not None:
            stack_field.queryset = catalogue_selectors.gpu_stack_list().filter(  # type: ignore[attr-defined]
                pk__in={c.gpu_stack_id for c in choices if c.image_id == image.pk and c.gpu_stack_id}
            )
            if not any(c.image_id == image.pk and c.gpu_stack_id is None for c in choices):
                # Only stacks are built on this image here: one must be chosen.
                stack_field.required = True
            if not self.is_bound:
                chosen = stack_field.queryset.filter(slug=data.get("gpu_stack") or "").first()  # type: ignore[attr-defined]
                self.initial["gpu_stack"] = chosen.slug if chosen is not None else None

    def choice_fields(self) -> list[Any]:
        """The bound fields the plan decides, those that apply to it only."""
        shown = ["datacentre"]
        if self.is_vm:
            shown.append("image")
        if self.is_gpu:
            shown.append("gpu_stack")
        return [self[name] for name in shown]

    def family_fields(self) -> list[Any]:
        """What the plan's family needs: a server's SSH keys and cloud-init, or a managed service's fields."""
        if self.offer_obj is None:
            return []
        names = list(self.SERVER_FIELDS) if self.is_vm else list(self.service_fields)
        return [self[name] for name in names if name in self.fields]

    def other_fields(self) -> list[Any]:
        decided = {*self.CHOICE_FIELDS, *self.SERVER_FIELDS, *self.service_fields, "offer"}
        return [f for f in self.visible_fields() if f.name not in decided]

    def service_data(self) -> dict[str, Any] | None:
        """The order's ``service`` object from the cleaned family fields (None for a server)."""
        if self.service_family is None:
            return None
        return service_data_from(self.service_family, self.cleaned_data)

    def add_service_errors(self, fields: dict[str, list[str]]) -> dict[str, list[str]]:
        """Put ``service.<path>`` errors of ``order_place`` on the form field that holds them; returns the rest."""
        rest: dict[str, list[str]] = {}
        for path, messages in fields.items():
            target = service_field_for(path) if path.startswith("service") else None
            if target is not None and target in self.fields:
                prefix = _path_hint(path)
                for message in messages:
                    self.add_error(target, f"{prefix}{message}")
            else:
                rest[path] = messages
        return rest


class OrderCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=500)


def offer_sold_in(offer: Offer, datacentre: Datacentre) -> bool:
    """``offer.datacentres`` is prefetched by the catalogue selectors: no query."""
    return any(dc.pk == datacentre.pk for dc in offer.datacentres.all())


# ---------------------------------------------------------------------------
# A managed service's fields, per family (apps.managed.validation checks them; the form only shapes them)
# ---------------------------------------------------------------------------
SOURCE_CHOICES = (("git", _("A Git repository")), ("image", _("A container image")))
ORIGIN_CHOICES = (
    ("url", _("A URL")),
    ("server", _("One of your servers")),
    ("load_balancer", _("One of your load balancers")),
)
ENVIRONMENT_CHOICES = (("prod", _("Production")), ("staging", _("Staging")), ("dev", _("Development")))
LINES = {"rows": 3, "spellcheck": "false"}

# The service object's paths → the form field showing their errors (first prefix that matches).
SERVICE_ERROR_FIELDS: tuple[tuple[str, str], ...] = (
    ("service.domain", "service_domain"),
    ("service.runtime", "service_runtime"),
    ("service.version", "service_runtime"),
    ("service.app", "service_app"),
    ("service.extra_domains", "service_extra_domains"),
    ("service.source.kind", "service_source_kind"),
    ("service.source.url", "service_repository"),
    ("service.source.branch", "service_branch"),
    ("service.source.image", "service_image"),
    ("service.source", "service_repository"),
    ("service.environment", "service_environment"),
    ("service.env", "service_env"),
    ("service.containers", "service_containers"),
    ("service.ram_gb", "service_ram_gb"),
    ("service.origin.kind", "service_origin_kind"),
    ("service.origin.url", "service_origin_url"),
    ("service.origin.id", "service_origin_id"),
    ("service.origin", "service_origin_url"),
    ("service.hostnames", "service_hostnames"),
    ("service.cache_rules", "service_cache_rules"),
    ("service.waf", "service_waf"),
    ("service.rules", "service_rules"),
    ("service.targets", "service_targets"),
)


def service_field_for(path: str) -> str | None:
    return next(
        (name for prefix, name in SERVICE_ERROR_FIELDS if path == prefix or path.startswith(prefix + ".")), None
    )


def _path_hint(path: str) -> str:
    """ "service.env.2.name" → "Line 3: " (the textarea fields hold one item per line)."""
    parts = path.split(".")
    index = next((p for p in parts[2:] if p.isdigit()), None) if len(parts) > 2 else None
    return _("Line %(n)s: ") % {"n": int(index) + 1} if index is not None else ""


def _lines(value: Any) -> list[str]:
    return [line.strip() for line in str(value or "").replace("\r\n", "\n").split("\n") if line.strip()]


def service_fields_add(form: forms.Form, *, family: str, offer: Offer, organisation: Organisation) -> list[str]:
    """Add the family's fields to ``form``; returns their names in display order."""
    f: dict[str, forms.Field] = {}
    if family == ServiceFamily.WEB_HOSTING:
        f["service_domain"] = forms.CharField(
            label=_("Primary domain"),
            max_length=253,
            help_text=_("The site's domain, e.g. shop.example.com (internationalised names are welcome)."),
        )
        f["service_runtime"] = forms.ChoiceField(
            label=_("Runtime"),
            choices=service_validation.web_runtime_choices(),
            initial="php:8.3",
            help_text=_("The language and version your site runs on."),
        )
        apps = service_validation.one_click_apps(offer)
        f["service_app"] = forms.ChoiceField(
            label=_("1-click app (optional)"),
            required=False,
            choices=[("", _("None: an empty site")), *apps],
        )
        if offer.web_sites_unlimited or (offer.web_sites or 1) > 1:
            f["service_extra_domains"] = forms.CharField(
                label=_("Other sites' domains (optional)"),
                required=False,
                widget=forms.Textarea(attrs=LINES),
                help_text=_("One domain per line; the plan's number of websites includes the primary one."),
            )
    elif family == ServiceFamily.PAAS:
        f["service_source_kind"] = forms.ChoiceField(
            label=_("Deploy from"), choices=SOURCE_CHOICES, initial="git", widget=forms.RadioSelect
        )
        f["service_repository"] = forms.CharField(
            label=_("Git repository"),
            required=False,
            max_length=2000,
            help_text=_("https://… or ssh:// (or git@host:path); no credentials: you get a deploy key."),
        )
        f["service_branch"] = forms.CharField(label=_("Branch"), required=False, max_length=255, initial="main")
        f["service_image"] = forms.CharField(
            label=_("Container image"),
            required=False,
            max_length=512,
            help_text=_("e.g. ghcr.io/acme/shop:2.1 or nginx@sha256:…"),
        )
        f["service_environment"] = forms.ChoiceField(
            label=_("Environment"), choices=ENVIRONMENT_CHOICES, initial="prod"
        )
        f["service_env"] = forms.CharField(
            label=_("Environment variables (optional)"),
            required=False,
            strip=False,
            widget=forms.Textarea(attrs={**LINES, "placeholder": "DATABASE_URL=postgres://…"}),
            help_text=_("One NAME=value per line. Values are stored encrypted and never shown again."),
        )
        max_containers = (
            service_validation.PAAS_CLUSTER_MAX_CONTAINERS if offer.paas_kubernetes_cluster else offer.paas_containers
        )
        f["service_containers"] = forms.IntegerField(
            label=_("Containers"), min_value=1, max_value=max_containers or 1, initial=1
        )
        sizes = service_validation.paas_ram_choices(offer)
        f["service_ram_gb"] = forms.TypedChoiceField(
            label=_("RAM per container"),
            coerce=int,
            choices=[(size, f"{size} GB") for size in sizes],
            initial=sizes[-1]
            if not offer.paas_ram_configurable
            else service_validation.PAAS_CONFIGURABLE_DEFAULT_RAM_GB,
        )
    elif family == ServiceFamily.CDN:
        f["service_origin_kind"] = forms.ChoiceField(
            label=_("Origin"), choices=ORIGIN_CHOICES, initial="url", widget=forms.RadioSelect
        )
        f["service_origin_url"] = forms.CharField(
            label=_("Origin URL"), required=False, max_length=2000, help_text=_("e.g. https://origin.example.com")
        )
        servers = Instance.objects.filter(organisation=organisation).exclude(
            status__in=(InstanceStatus.DELETING, InstanceStatus.DELETED)
        )
        balancers = ManagedService.objects.filter(
            organisation=organisation, family=ServiceFamily.LOAD_BALANCER
        ).exclude(state__in=ENDED_STATES)
        f["service_origin_id"] = forms.ChoiceField(
            label=_("Server or load balancer"),
            required=False,
            choices=[
                ("", "—"),
                *[
                    (str(pk), _("Server %(name)s") % {"name": name})
                    for pk, name in servers.values_list("public_id", "name")
                ],
                *[
                    (str(pk), _("Load balancer %(name)s") % {"name": name})
                    for pk, name in balancers.values_list("public_id", "name")
                ],
            ],
        )
        f["service_hostnames"] = forms.CharField(
            label=_("Hostnames"),
            widget=forms.Textarea(attrs=LINES),
            help_text=_("The names the CDN answers for, one per line, e.g. cdn.example.com."),
        )
        f["service_cache_rules"] = forms.CharField(
            label=_("Cache rules (optional)"),
            required=False,
            widget=forms.Textarea(attrs={**LINES, "placeholder": "/static/* 86400"}),
            help_text=_("One path pattern and a TTL in seconds per line."),
        )
        levels = service_validation.waf_choices(offer)
        f["service_waf"] = forms.ChoiceField(
            label=_("Web application firewall"),
            choices=[(w, str(dict(catalogue_choices.WafLevel.choices)[w])) for w in levels],
            initial=levels[-1],
            help_text=_("Up to what your plan includes."),
        )
    else:
        protocols = ", ".join(offer.lb_protocols or [])
        f["service_rules"] = forms.CharField(
            label=_("Forwarding rules"),
            widget=forms.Textarea(attrs={**LINES, "placeholder": "HTTP 80 HTTP 8080"}),
            help_text=_(
                "One rule per line: entry protocol and port, then target protocol and port. Your plan allows %(p)s."
            )
            % {"p": protocols},
        )
        f["service_targets"] = forms.CharField(
            label=_("Targets (optional)"),
            required=False,
            widget=forms.Textarea(attrs={**LINES, "placeholder": "role=web"}),
            help_text=_("One per line: a server id, or a label selector such as role=web."),
        )
    for name, field in f.items():
        form.fields[name] = field
    return list(f)


def service_data_from(family: str, data: dict[str, Any]) -> dict[str, Any]:
    """The service object of an order from the form's cleaned fields (the API's shape)."""
    if family == ServiceFamily.WEB_HOSTING:
        return {
            "domain": data.get("service_domain", ""),
            "runtime": data.get("service_runtime", ""),
            "app": data.get("service_app", ""),
            "extra_domains": _lines(data.get("service_extra_domains")),
        }
    if family == ServiceFamily.PAAS:
        kind = data.get("service_source_kind") or "git"
        source = (
            {"kind": "git", "url": data.get("service_repository", ""), "branch": data.get("service_branch", "")}
            if kind == "git"
            else {"kind": "image", "image": data.get("service_image", "")}
        )
        env = []
        for line in str(data.get("service_env") or "").replace("\r\n", "\n").split("\n"):
            if not line.strip():
                continue
            name, _sep, value = line.partition("=")
            env.append({"name": name.strip(), "value": value})
        return {
            "source": source,
            "environment": data.get("service_environment", ""),
            "env": env,
            "containers": data.get("service_containers"),
            "ram_gb": data.get("service_ram_gb"),
        }
    if family == ServiceFamily.CDN:
        kind = data.get("service_origin_kind") or "url"
        origin = (
            {"kind": "url", "url": data.get("service_origin_url", "")}
            if kind == "url"
            else {"kind": kind, "id": data.get("service_origin_id", "")}
        )
        rules = []
        for line in _lines(data.get("service_cache_rules")):
            path, _sep, ttl = line.rpartition(" ")
            rules.append({"path": path.strip(), "ttl": ttl.strip()} if path else {"path": line, "ttl": ""})
        return {
            "origin": origin,
            "hostnames": _lines(data.get("service_hostnames")),
            "cache_rules": rules,
            "waf": data.get("service_waf", ""),
        }
    rules_out = []
    for line in _lines(data.get("service_rules")):
        parts = line.replace("->", " ").replace("→", " ").split()
        keys = ("protocol", "port", "target_protocol", "target_port")
        rules_out.append(dict(zip(keys, parts, strict=False)))
    targets = []
    for line in _lines(data.get("service_targets")):
        try:
            targets.append({"kind": "server", "id": str(uuid.UUID(line))})
        except ValueError:
            targets.append({"kind": "label_selector", "label_selector": line})
    return {"rules": rules_out, "targets": targets}
