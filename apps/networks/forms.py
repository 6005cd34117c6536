"""Portal forms of the networks app (validation of meaning stays in the services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class NetworkCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=63)
    project = forms.ChoiceField(label=_("Project"))
    datacentre = forms.ChoiceField(label=_("Datacentre"))
    ip_range = forms.CharField(
        label=_("IP range"),
        max_length=18,
        initial="10.0.0.0/16",
        help_text=_("A private range from /8 to /24, e.g. 10.0.0.0/16."),
    )
    subnets = forms.CharField(
        label=_("Subnets"),
        required=False,
        max_length=200,
        help_text=_("Comma-separated, inside the range (/16 to /29). Empty: the whole range (or its first /16)."),
    )

    def __init__(self, *args: Any, projects: Any = (), datacentres: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = [(p.pk, p.name) for p in projects]  # type: ignore[attr-defined]
        self.fields["datacentre"].choices = [(d.code, f"{d.code} · {d.name}") for d in datacentres]  # type: ignore[attr-defined]

    def subnet_list(self) -> list[str]:
        return [part.strip() for part in self.cleaned_data.get("subnets", "").split(",") if part.strip()]


class AttachForm(forms.Form):
    server = forms.ChoiceField(label=_("Server"))
    ip = forms.GenericIPAddressField(
        label=_("Address"), protocol="IPv4", required=False, help_text=_("Empty: the next free address.")
    )

    def __init__(self, *args: Any, servers: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["server"].choices = [(str(s.public_id), s.name) for s in servers]  # type: ignore[attr-defined]


class JoinForm(forms.Form):
    """The server tab's form: the network to join."""

    network = forms.ChoiceField(label=_("Network"))
    ip = forms.GenericIPAddressField(
        label=_("Address"), protocol="IPv4", required=False, help_text=_("Empty: the next free address.")
    )

    def __init__(self, *args: Any, networks: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["network"].choices = [  # type: ignore[attr-defined]
            (str(n.public_id), f"{n.name} ({n.ip_range})") for n in networks
        ]
