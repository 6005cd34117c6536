"""Portal forms of orders: the order wizard (choices scoped to the organisation and the catalogue)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.catalogue import selectors as catalogue_selectors
from apps.catalogue.models import Datacentre, Offer, OsImage
from apps.instances.models import SshKey
from apps.teams.access import project_list_for_actor
from apps.teams.choices import Permission
from apps.teams.models import Organisation, Project


class OfferChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        offer: Offer = obj
        return f"{offer.family.name} · {offer.code} — €{offer.price_monthly}/{_('month')}"


class OrderForm(forms.Form):
    """What the wizard asks; ``order_place`` does the real validation (its field errors land here too)."""

    offer = OfferChoiceField(label=_("Plan"), queryset=Offer.objects.none(), to_field_name="code")
    datacentre = forms.ModelChoiceField(label=_("Datacentre"), queryset=Datacentre.objects.none(), to_field_name="code")
    image = forms.ModelChoiceField(
        label=_("Operating system"),
        queryset=OsImage.objects.none(),
        to_field_name="slug",
        required=False,
        help_text=_("Servers only; managed services need none."),
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

    def clean_user_data(self) -> str:
        # Browsers send textareas with CRLF line ends; a "#!/bin/sh\r" script would not run.
        return str(self.cleaned_data.get("user_data") or "").replace("\r\n", "\n")

    def __init__(self, *args: Any, organisation: Organisation, actor: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.fields["offer"].queryset = catalogue_selectors.offer_list_public().select_related("family")  # type: ignore[attr-defined]
        self.fields["datacentre"].queryset = catalogue_selectors.datacentre_list()  # type: ignore[attr-defined]
        self.fields["image"].queryset = catalogue_selectors.image_list()  # type: ignore[attr-defined]
        projects = project_list_for_actor(actor=actor, organisation=organisation, permission=Permission.RESOURCES_WRITE)
        self.fields["project"].queryset = projects  # type: ignore[attr-defined]
        default = projects.filter(is_default=True).first()
        if default is not None and not self.is_bound:
            self.initial.setdefault("project", default.pk)
        self.fields["ssh_keys"].queryset = SshKey.objects.filter(organisation=organisation).order_by("name")  # type: ignore[attr-defined]


class OrderCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=500)
