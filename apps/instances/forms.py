"""Portal forms of the instances app: shapes of input only; the services validate the rules."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.catalogue.models import Offer, OsImage
from apps.instances import choices


class ServerFilterForm(forms.Form):
    """Filters of the servers list (both optional)."""

    project = forms.ChoiceField(label=_("Project"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *choices.InstanceStatus.choices]
    )

    def __init__(self, *args: Any, projects: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["project"]).choices = [
            ("", _("All projects")),
            *((str(p.pk), p.name) for p in projects),
        ]


class InstanceSettingsForm(forms.Form):
    """Rename (the name is the hostname) and labels, one ``key=value`` a line."""

    name = forms.CharField(label=_("Name"), max_length=63, help_text=_("Lower-case letters, digits and hyphens."))
    labels = forms.CharField(
        label=_("Labels"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "env=prod\nteam=web"}),
        help_text=_("One key=value a line."),
    )

    def clean_labels(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for line in (self.cleaned_data.get("labels") or "").splitlines():
            line = line.strip()
            if not line:
                continue
            if "=" not in line:
                raise forms.ValidationError(_("Write each label as key=value."))
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
        return out


class ResizeForm(forms.Form):
    offer = forms.ModelChoiceField(label=_("New plan"), queryset=Offer.objects.none(), empty_label=None)

    def __init__(self, *args: Any, offers: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["offer"])
        if offers is not None:
            field.queryset = offers
        field.label_from_instance = lambda o: (  # type: ignore[method-assign,assignment]
            f"{o.code} — {o.vcpu} vCPU, {o.ram_gb} GB RAM, {o.disk_gb} GB — €{o.price_monthly}/" + str(_("month"))
        )


class RebuildForm(forms.Form):
    image = forms.ModelChoiceField(label=_("Operating system"), queryset=OsImage.objects.none(), empty_label=None)
    confirm = forms.BooleanField(label=_("I understand that every file on the server is erased."))

    def __init__(self, *args: Any, images: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["image"])
        if images is not None:
            field.queryset = images


class SnapshotCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Snapshot name"), max_length=100, required=False, help_text=_("Leave empty for a dated name.")
    )


WEEKDAYS = (
    (0, _("Sunday")),
    (1, _("Monday")),
    (2, _("Tuesday")),
    (3, _("Wednesday")),
    (4, _("Thursday")),
    (5, _("Friday")),
    (6, _("Saturday")),
)


class SnapshotScheduleForm(forms.Form):
    """Automatic snapshots: daily or weekly at an hour (UTC), keeping the last ``retention`` ones.

    Cron's weekday numbering (0 = Sunday), as the API; ``services.snapshot_schedule_set`` checks the ranges.
    """

    frequency = forms.ChoiceField(label=_("Frequency"), choices=choices.ScheduleFrequency.choices)
    hour = forms.TypedChoiceField(
        label=_("Hour (UTC)"), coerce=int, choices=[(h, f"{h:02d}:00") for h in range(24)], initial=3
    )
    weekday = forms.TypedChoiceField(
        label=_("Day of the week"), coerce=int, choices=WEEKDAYS, initial=0, help_text=_("Weekly schedules only.")
    )
    retention = forms.IntegerField(
        label=_("Snapshots kept"),
        min_value=1,
        max_value=30,
        initial=7,
        help_text=_("Older scheduled snapshots are deleted (1 to 30)."),
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)


class DeleteForm(forms.Form):
    """Deleting asks for the server's name, typed (GitHub's repository deletion does the same)."""

    confirm_name = forms.CharField(label=_("Type the server's name to confirm"), max_length=63)

    def __init__(self, *args: Any, expected: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_confirm_name(self) -> str:
        value = (self.cleaned_data.get("confirm_name") or "").strip()
        if value != self.expected:
            raise forms.ValidationError(_("The name does not match."))
        return value


class SshKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("For example: alice laptop."))
    public_key = forms.CharField(
        label=_("Public key"),
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "ssh-ed25519 AAAAC3Nz… alice@laptop"}),
        help_text=_("The content of ~/.ssh/id_ed25519.pub (ed25519, ECDSA or RSA of 2048 bits or more)."),
    )
