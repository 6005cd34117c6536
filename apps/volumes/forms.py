"""Portal forms of the volumes app: shapes of input only; the services validate the rules."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.catalogue.models import Datacentre, Offer
from apps.instances.models import Instance
from apps.volumes import choices, rules


def _labels(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if "=" not in line:
            raise forms.ValidationError(_("Write each label as key=value."))
        key, value = line.split("=", 1)
        out[key.strip()] = value.strip()
    return out


class LabelsMixin:
    cleaned_data: dict[str, Any]

    def clean_labels(self) -> dict[str, str]:
        return _labels(self.cleaned_data.get("labels") or "")


def _server_label(server: Instance) -> str:
    return f"{server.name} ({server.datacentre.code}, {server.get_status_display()})"


class VolumeFilterForm(forms.Form):
    """Filters of the volumes list (all optional)."""

    project = forms.ChoiceField(label=_("Project"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *choices.VolumeStatus.choices]
    )
    datacentre = forms.ChoiceField(label=_("Datacentre"), required=False)

    def __init__(self, *args: Any, projects: Any = (), datacentres: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["project"]).choices = [
            ("", _("All projects")),
            *((str(p.pk), p.name) for p in projects),
        ]
        cast(forms.ChoiceField, self.fields["datacentre"]).choices = [
            ("", _("All datacentres")),
            *((d.code, d.code) for d in datacentres),
        ]


class VolumeCreateForm(LabelsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=63)
    tier = forms.ModelChoiceField(label=_("Tier"), queryset=Offer.objects.none(), empty_label=None)
    size_gb = forms.IntegerField(
        label=_("Size (GB)"),
        min_value=rules.SIZE_MIN_GB,
        max_value=rules.SIZE_MAX_GB,
        initial=50,
        help_text=_("From 10 GB to 10 TB; a volume can grow later, never shrink."),
    )
    datacentre = forms.ModelChoiceField(label=_("Datacentre"), queryset=Datacentre.objects.none(), empty_label=None)
    project = forms.ChoiceField(label=_("Project"))
    server = forms.ModelChoiceField(
        label=_("Attach to server"),
        queryset=Instance.objects.none(),
        required=False,
        empty_label=_("Do not attach now"),
        help_text=_("A running or stopped server of the same project and datacentre."),
    )
    labels = forms.CharField(
        label=_("Labels"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "env=prod\nteam=db"}),
        help_text=_("One key=value a line."),
    )
    delete_protection = forms.BooleanField(label=_("Delete protection"), required=False)

    def __init__(
        self, *args: Any, tiers: Any = None, datacentres: Any = None, projects: Any = (), servers: Any = None, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        tier_field = cast(forms.ModelChoiceField, self.fields["tier"])
        if tiers is not None:
            tier_field.queryset = tiers
        tier_field.label_from_instance = lambda o: (  # type: ignore[method-assign,assignment]
            f"{o.code} — {o.storage_iops_per_tb or 0:,} IOPS/TB — €{o.price_monthly}/GB/" + str(_("month"))
        )
        if datacentres is not None:
            cast(forms.ModelChoiceField, self.fields["datacentre"]).queryset = datacentres
        cast(forms.ChoiceField, self.fields["project"]).choices = [(str(p.pk), p.name) for p in projects]
        server_field = cast(forms.ModelChoiceField, self.fields["server"])
        if servers is not None:
            server_field.queryset = servers
        server_field.label_from_instance = _server_label  # type: ignore[method-assign,assignment]


class VolumeAttachForm(forms.Form):
    server = forms.ModelChoiceField(label=_("Server"), queryset=Instance.objects.none(), empty_label=None)

    def __init__(self, *args: Any, servers: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["server"])
        if servers is not None:
            field.queryset = servers
        field.label_from_instance = _server_label  # type: ignore[method-assign,assignment]


class VolumeResizeForm(forms.Form):
    size_gb = forms.IntegerField(label=_("New size (GB)"), min_value=rules.SIZE_MIN_GB, max_value=rules.SIZE_MAX_GB)


class VolumeSettingsForm(LabelsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=63)
    labels = forms.CharField(
        label=_("Labels"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "env=prod\nteam=db"}),
        help_text=_("One key=value a line."),
    )


class VolumeDeleteForm(forms.Form):
    confirm_name = forms.CharField(label=_("Volume name"), max_length=63)

    def __init__(self, *args: Any, expected: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_confirm_name(self) -> str:
        value = str(self.cleaned_data.get("confirm_name") or "").strip()
        if value != self.expected:
            raise forms.ValidationError(_("Type the volume's exact name."))
        return value
