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
from apps.instances.models import SshKey
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

    # Fields the plan decides (rendered by orders/_order_choices.html, refreshed when the plan changes).
    CHOICE_FIELDS = ("datacentre", "image", "gpu_stack")

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
        self._restrict_choices(offers, selection if selection is not None else (self.data if self.is_bound else {}))

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

    def other_fields(self) -> list[Any]:
        return [f for f in self.visible_fields() if f.name not in self.CHOICE_FIELDS and f.name != "offer"]


class OrderCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=500)


def offer_sold_in(offer: Offer, datacentre: Datacentre) -> bool:
    """``offer.datacentres`` is prefetched by the catalogue selectors: no query."""
    return any(dc.pk == datacentre.pk for dc in offer.datacentres.all())
