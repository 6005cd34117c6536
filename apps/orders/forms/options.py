"""A server's options in the create flow: private networks, firewalls, labels and up to three volumes, with
the volumes' prices in the summary (``apps.volumes``: the tier's price per GB × size).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.catalogue import choices as catalogue_choices
from apps.catalogue.models import Datacentre, Offer
from apps.core.formats import money
from apps.firewalls.choices import FirewallStatus
from apps.firewalls.models import Firewall
from apps.networks.choices import NetworkStatus
from apps.networks.models import Network
from apps.orders.rules.options import MAX_ORDER_VOLUMES, STORAGE_FAMILY
from apps.teams.models import Organisation
from apps.volumes.services import volume_prices


class ServerOptionsForm(forms.Form):
    """A server's options step of the create flow (apps/docs/content/ordering.md, "Options"): the private
    networks, firewalls and volume rows; ``order_place`` checks them, they are applied once the server runs.

    ``OrderForm`` declares the fields (labels, networks, firewalls) and sets what the options depend on.
    """

    datacentre_obj: Datacentre | None
    is_vm: bool
    volume_tiers: dict[str, Offer]

    def _options_fields(self, organisation: Organisation) -> None:
        """Networks available in the chosen datacentre, the organisation's firewalls, the datacentre's tiers."""
        dc = self.datacentre_obj
        networks = Network.objects.filter(organisation=organisation, status=NetworkStatus.AVAILABLE)
        self.fields["network_ids"].queryset = (  # type: ignore[attr-defined]
            networks.filter(datacentre=dc).order_by("name") if dc is not None else networks.none()
        )
        self.fields["network_ids"].label_from_instance = lambda n: f"{n.name} ({n.ip_range})"  # type: ignore[attr-defined]
        self.fields["firewall_ids"].queryset = Firewall.objects.filter(  # type: ignore[attr-defined]
            organisation=organisation, status=FirewallStatus.ACTIVE
        ).order_by("name")
        tiers = (
            list(
                Offer.objects.filter(family__slug=STORAGE_FAMILY, datacentres=dc)
                .exclude(status=catalogue_choices.OfferStatus.RETIRED)
                .order_by("price_monthly", "code")
            )
            if dc is not None
            else []
        )
        self.volume_tiers = {t.code: t for t in tiers}
        tier_choices = [("", _("No volume"))] + [
            (t.code, _("%(name)s (%(price)s per GB a month)") % {"name": t.name, "price": money(t.price_monthly)})
            for t in tiers
        ]
        for i in range(1, MAX_ORDER_VOLUMES + 1):
            self.fields[f"volume_size_{i}"] = forms.IntegerField(
                label=_("Volume %(n)s size (GB)") % {"n": i},
                required=False,
                min_value=1,
                widget=forms.NumberInput(attrs={"class": "flow-refresh"}),
            )
            self.fields[f"volume_tier_{i}"] = forms.ChoiceField(
                label=_("Volume %(n)s tier") % {"n": i},
                required=False,
                choices=tier_choices,
                widget=forms.Select(attrs={"class": "flow-refresh"}),
            )

    def volume_rows(self) -> list[tuple[Any, Any]]:
        """The (size, tier) bound fields of each volume row, for the template."""
        return [
            (self[f"volume_size_{i}"], self[f"volume_tier_{i}"])
            for i in range(1, MAX_ORDER_VOLUMES + 1)
            if f"volume_size_{i}" in self.fields
        ]

    def clean_labels(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for line in str(self.cleaned_data.get("labels") or "").splitlines():
            line = line.strip()
            if not line:
                continue
            if "=" not in line:
                raise forms.ValidationError(_("Write each label as key=value."))
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
        return out

    def volumes(self) -> list[dict[str, Any]]:
        """The volumes asked for: each row with a tier (a size without a tier is a form error in ``clean``)."""
        data = getattr(self, "cleaned_data", {})
        return [
            {"size_gb": data.get(f"volume_size_{i}"), "tier": data.get(f"volume_tier_{i}")}
            for i in range(1, MAX_ORDER_VOLUMES + 1)
            if data.get(f"volume_tier_{i}")
        ]

    def options(self) -> dict[str, Any]:
        """The server options for ``order_place``."""
        if not self.is_vm:
            return {}
        data = self.cleaned_data
        return {
            "labels": data.get("labels") or {},
            "network_ids": [n.public_id for n in data.get("network_ids") or []],
            "firewall_ids": [f.public_id for f in data.get("firewall_ids") or []],
            "volumes": self.volumes(),
        }

    def add_option_errors(self, fields: dict[str, list[str]]) -> dict[str, list[str]]:
        """Put ``volumes[i].size_gb`` / ``.tier`` errors of ``order_place`` on the row's fields; returns the rest."""
        rest: dict[str, list[str]] = {}
        rows = [i for i in range(1, MAX_ORDER_VOLUMES + 1) if getattr(self, "cleaned_data", {}).get(f"volume_tier_{i}")]
        for path, messages in fields.items():
            target = None
            if path.startswith("volumes[") and "]" in path:
                try:
                    index = int(path[len("volumes[") : path.index("]")])
                except ValueError:
                    index = -1
                if 0 <= index < len(rows):
                    kind = "tier" if path.endswith(".tier") else "size"
                    target = f"volume_{kind}_{rows[index]}"
            if target is not None and target in self.fields:
                for message in messages:
                    self.add_error(target, message)
            else:
                rest[path] = messages
        return rest

    def _summary_volumes(self) -> list[dict[str, Any]]:
        """The volumes chosen so far, each with its price (``apps.volumes``: the tier's price per GB × size)."""
        source = self.data if self.is_bound else self.initial
        out: list[dict[str, Any]] = []
        for i in range(1, MAX_ORDER_VOLUMES + 1):
            tier = getattr(self, "volume_tiers", {}).get(str(source.get(f"volume_tier_{i}") or ""))
            try:
                size = int(source.get(f"volume_size_{i}") or 0)
            except (TypeError, ValueError):
                size = 0
            if tier is None or size < 1:
                continue
            hourly, monthly = volume_prices(tier=tier, size_gb=size)
            out.append({"tier": tier, "size_gb": size, "hourly": hourly, "monthly": monthly})
        return out
