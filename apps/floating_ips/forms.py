"""Portal forms of floating IPs: shapes of input only; the services validate the rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _


class FloatingIpCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=63)
    datacentre = forms.ChoiceField(label=_("Datacentre"))
    server = forms.ChoiceField(
        label=_("Assign to"), required=False, help_text=_("Optional: a server of that datacentre.")
    )

    def __init__(self, *args: Any, datacentres: Iterable[Any] = (), servers: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["datacentre"]).choices = [(dc.code, str(dc)) for dc in datacentres]
        cast(forms.ChoiceField, self.fields["server"]).choices = [
            ("", _("Not now")),
            *((str(s.public_id), f"{s.name} ({s.datacentre.code})") for s in servers),
        ]


class FloatingIpAssignForm(forms.Form):
    server = forms.ChoiceField(label=_("Server"))

    def __init__(self, *args: Any, servers: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["server"]).choices = [(str(s.public_id), s.name) for s in servers]


class FloatingIpPickForm(forms.Form):
    """The server tab: assign one of the project's floating IPs of the server's datacentre."""

    floating_ip = forms.ChoiceField(label=_("Floating IP"))

    def __init__(self, *args: Any, floating_ips: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["floating_ip"]).choices = [
            (str(f.public_id), f"{f.address} ({f.name})") for f in floating_ips
        ]
