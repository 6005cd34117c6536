"""The create flow's form: family, datacentre, image, plan, options and, for a managed service, its
fields; the cards show live availability, and the summary beside it the price of what is chosen.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from apps.catalogue import choices as catalogue_choices
from apps.catalogue import selectors as catalogue_selectors
from apps.catalogue.models import Datacentre, GpuSoftwareStack, Offer, OsImage
from apps.catalogue.rules import specs
from apps.core.actors import Actor
from apps.firewalls.models import Firewall
from apps.infrastructure.choices import UnavailableCode
from apps.infrastructure.selectors import ImageChoice, availability_matrix
from apps.instances.models import SshKey
from apps.managed import rules as service_validation
from apps.networks.models import Network
from apps.orders.forms.cards import (
    _CATALOGUE_CODES,
    UNAVAILABLE_REASONS,
    Card,
    ImageChoiceField,
    ImageGroup,
    OfferChoiceField,
    StackChoiceField,
    offer_sold_in,
)
from apps.orders.forms.managed_service import _path_hint, service_data_from, service_field_for, service_fields_add
from apps.orders.forms.options import ServerOptionsForm
from apps.orders.rules.options import MAX_ORDER_VOLUMES
from apps.teams.access import project_list_for_actor
from apps.teams.choices import Permission
from apps.teams.models import Organisation, Project

QUANTITY_MAX = 10


class OrderForm(ServerOptionsForm):
    """The create flow: family, datacentre, image, plan, options; ``order_place`` does the real validation.

    Every choice is shown as a card with its live state from the availability
    selectors (apps/docs/content/ordering.md): what cannot be ordered with the
    other choices is disabled with the reason, and a crafted post choosing it
    gets that reason as a form error (``clean``), never a 500.
    """

    family = forms.ChoiceField(label=_("Product"), required=False, widget=forms.RadioSelect)
    offer = OfferChoiceField(
        label=_("Plan"), queryset=Offer.objects.none(), to_field_name="code", widget=forms.RadioSelect
    )
    datacentre = forms.ModelChoiceField(
        label=_("Datacentre"), queryset=Datacentre.objects.none(), to_field_name="code", widget=forms.RadioSelect
    )
    image = ImageChoiceField(
        label=_("Operating system"),
        queryset=OsImage.objects.none(),
        to_field_name="slug",
        required=False,
        widget=forms.RadioSelect,
    )
    gpu_stack = StackChoiceField(
        label=_("GPU software stack"),
        queryset=GpuSoftwareStack.objects.none(),
        to_field_name="slug",
        required=False,
        widget=forms.RadioSelect,
    )
    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.none())
    name = forms.CharField(
        label=_("Name"),
        max_length=253,
        help_text=_("Servers: a hostname such as web (lower-case letters, digits, hyphens). Services: a name."),
    )
    quantity = forms.IntegerField(
        label=_("How many servers"),
        min_value=1,
        max_value=QUANTITY_MAX,
        initial=1,
        required=False,
        help_text=_("Several servers at once are named name-1, name-2, …"),
    )
    ssh_keys = forms.ModelMultipleChoiceField(
        label=_("SSH keys"),
        queryset=SshKey.objects.none(),
        to_field_name="public_id",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    new_ssh_key_name = forms.CharField(label=_("New key's name"), required=False, max_length=100)
    new_ssh_key = forms.CharField(
        label=_("New public key"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "placeholder": "ssh-ed25519 AAAA… you@laptop"}),
        help_text=_("Pasted here, it is added to your organisation's keys and to these servers."),
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
    # A server's options (apps/docs/content/ordering.md, "Options"): checked by order_place, applied once it runs.
    labels = forms.CharField(
        label=_("Labels"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "placeholder": "env=prod\nteam=web"}),
        help_text=_("One key=value a line; firewalls and load balancers can select servers by label."),
    )
    network_ids = forms.ModelMultipleChoiceField(
        label=_("Private networks"),
        queryset=Network.objects.none(),
        to_field_name="public_id",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    firewall_ids = forms.ModelMultipleChoiceField(
        label=_("Firewalls"),
        queryset=Firewall.objects.none(),
        to_field_name="public_id",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    # One key per rendered form: submitting it twice places the same orders (Idempotency-Key).
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=48)

    VOLUME_FIELDS = tuple(
        name for i in range(1, MAX_ORDER_VOLUMES + 1) for name in (f"volume_size_{i}", f"volume_tier_{i}")
    )
    SERVER_FIELDS = (
        "quantity",
        "ssh_keys",
        "new_ssh_key_name",
        "new_ssh_key",
        "user_data",
        "labels",
        "network_ids",
        "firewall_ids",
        *VOLUME_FIELDS,
    )
    # Values a GET refresh (or a deep link) carries over into the re-rendered form.
    KEPT = (
        "project",
        "name",
        "quantity",
        "new_ssh_key_name",
        "new_ssh_key",
        "user_data",
        "labels",
        *VOLUME_FIELDS,
        "idempotency_key",
    )
    MULTIPLE = ("ssh_keys", "network_ids", "firewall_ids")

    def __init__(
        self, *args: Any, organisation: Organisation, actor: Actor, selection: Any = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        # Block storage tiers are sold as volumes (their own page), not through an order.
        self.offers = list(
            catalogue_selectors.offer_list_public().exclude(billing_unit=catalogue_choices.BillingUnit.GB_MONTH)
        )
        self.fields["offer"].queryset = Offer.objects.filter(pk__in=[o.pk for o in self.offers]).select_related(  # type: ignore[attr-defined]
            "family"
        )
        self.fields["datacentre"].queryset = Datacentre.objects.all()  # type: ignore[attr-defined]
        self.fields["image"].queryset = catalogue_selectors.image_list()  # type: ignore[attr-defined]
        self.fields["gpu_stack"].queryset = catalogue_selectors.gpu_stack_list()  # type: ignore[attr-defined]
        projects = project_list_for_actor(actor=actor, organisation=organisation, permission=Permission.RESOURCES_WRITE)
        self.fields["project"].queryset = projects  # type: ignore[attr-defined]
        self.has_projects = False
        project_list = list(projects)
        self.has_projects = bool(project_list)
        default = next((p for p in project_list if p.is_default), None)
        if default is not None and not self.is_bound:
            self.initial.setdefault("project", default.pk)
        self.fields["ssh_keys"].queryset = SshKey.objects.filter(organisation=organisation).order_by("name")  # type: ignore[attr-defined]
        data = selection if selection is not None else (self.data if self.is_bound else {})
        self._build_flow(data)
        self._options_fields(organisation)
        self.fields["family"].choices = [(f.value, f.obj.name) for f in self.family_cards]  # type: ignore[attr-defined]
        self.service_family = (
            service_validation.service_family_of(self.offer_obj) if self.offer_obj is not None else None
        )
        if not self.is_vm:
            # A managed service takes no SSH keys, cloud-init nor quantity: those fields are not in the form.
            for name in self.SERVER_FIELDS:
                del self.fields[name]
        if self.service_family is not None and self.offer_obj is not None:
            self.service_fields = service_fields_add(
                self, family=self.service_family, offer=self.offer_obj, organisation=organisation
            )
        else:
            self.service_fields = []
        if not self.is_bound and selection is not None:
            # A refresh re-renders the form unbound: keep what the customer typed.
            getlist = getattr(selection, "getlist", None)
            for name in [*self.KEPT, *self.MULTIPLE, *self.service_fields]:
                if name in self.fields and selection.get(name) not in (None, ""):
                    multiple = isinstance(self.fields[name], forms.MultipleChoiceField)
                    self.initial[name] = getlist(name) if getlist and multiple else selection.get(name)

    # ------------------------------------------------------------------
    # The cards, with their state (one availability matrix for the family's offers)
    # ------------------------------------------------------------------
    def _build_flow(self, data: Any) -> None:
        offers = self.offers
        by_code = {o.code: o for o in offers}
        families: dict[int, Any] = {}
        for offer in offers:
            families.setdefault(offer.family_id, offer.family)
        family_list = sorted(
            families.values(),
            key=lambda f: (f.kind != catalogue_choices.FamilyKind.VIRTUAL_MACHINE, f.position, f.name),
        )
        chosen_offer = by_code.get(str(data.get("offer") or ""))
        family_slug = str(data.get("family") or "")
        family = next((f for f in family_list if f.slug == family_slug), None)
        if family is None and chosen_offer is not None:
            family = chosen_offer.family
        if family is None and family_list:
            family = family_list[0]
        self.family_obj = family
        if chosen_offer is not None and family is not None and chosen_offer.family_id != family.pk:
            chosen_offer = None  # the customer switched family: the plan of the other one no longer applies
        self.family_cards = [
            Card(value=f.slug, obj=f, checked=f is family, extra={"managed": f.kind != "vm"}) for f in family_list
        ]
        self.family_offers = [o for o in offers if family is not None and o.family_id == family.pk]
        self.offer_obj = chosen_offer
        self.is_vm = bool(family is not None and family.kind == catalogue_choices.FamilyKind.VIRTUAL_MACHINE)
        self.is_gpu = bool(self.is_vm and any(o.is_gpu for o in self.family_offers))
        if chosen_offer is not None:
            self.is_gpu = chosen_offer.is_gpu

        datacentres = list(catalogue_selectors.datacentre_list())
        matrix = availability_matrix(offers=self.family_offers, datacentres=datacentres) if self.family_offers else {}
        self.matrix = matrix
        dc_code = str(data.get("datacentre") or "")
        chosen_dc = next((dc for dc in datacentres if dc.code == dc_code), None)

        def pair_state(offer: Offer, dc: Datacentre) -> tuple[str, str, int]:
            """(level, reason, count) of one offer in one datacentre."""
            avail = matrix.get((offer.pk, dc.pk))
            if avail is None:
                return "unavailable", str(UNAVAILABLE_REASONS[UnavailableCode.NOT_IN_DATACENTRE]), 0
            if not self.is_vm:
                # Managed services are set up by staff: sold and open is all that counts.
                if avail.reason in _CATALOGUE_CODES:
                    return "unavailable", str(UNAVAILABLE_REASONS[avail.reason]), 0
                return "on_request", "", -1
            if avail.level == "unavailable":
                return "unavailable", str(UNAVAILABLE_REASONS.get(avail.reason, _("Unavailable right now"))), 0
            return avail.level, "", avail.count

        # Datacentre cards: for the chosen plan, else for the family (open and selling it at all).
        self.datacentre_cards = []
        for dc in datacentres:
            card = Card(value=dc.code, obj=dc, extra={"gpus": list(dc.gpu_presence.all())})
            if chosen_offer is not None:
                card.level, card.reason, card.extra["count"] = pair_state(chosen_offer, dc)
            elif dc.status != catalogue_choices.DatacentreStatus.OPERATIONAL:
                card.level, card.reason = (
                    "unavailable",
                    str(UNAVAILABLE_REASONS[UnavailableCode.DATACENTRE_MAINTENANCE]),
                )
            elif not any(offer_sold_in(o, dc) for o in self.family_offers):
                card.level, card.reason = "unavailable", str(_("This product is not sold here"))
            else:
                states = [pair_state(o, dc) for o in self.family_offers]
                card.level = next((s[0] for s in states if s[0] != "unavailable"), "unavailable")
                if card.level == "unavailable":
                    card.reason = str(_("No capacity for this product right now"))
            card.disabled = card.level == "unavailable"
            self.datacentre_cards.append(card)
        open_cards = [c for c in self.datacentre_cards if not c.disabled]
        if chosen_dc is None and chosen_offer is not None and len(open_cards) == 1:
            chosen_dc = open_cards[0].obj
        for card in self.datacentre_cards:
            card.checked = chosen_dc is not None and card.obj.pk == chosen_dc.pk
        self.datacentre_obj = chosen_dc

        # Plan cards: for the chosen datacentre, else wherever they can be built.
        self.plan_cards = []
        table = specs.spec_table(self.family_offers)
        shown = [i for i, c in enumerate(table.columns) if c.key != "tier"]
        for offer, cells in table.rows:
            card = Card(value=offer.code, obj=offer, checked=offer is chosen_offer)
            card.extra["specs"] = [(table.columns[i].label, cells[i]) for i in shown if cells[i]]
            if chosen_dc is not None:
                card.level, card.reason, card.extra["count"] = pair_state(offer, chosen_dc)
            else:
                states = [pair_state(offer, dc) for dc in datacentres]
                card.level = next((s[0] for s in states if s[0] != "unavailable"), "unavailable")
                if card.level == "unavailable":
                    card.reason = str(_("Not available in any datacentre right now"))
            card.disabled = card.level == "unavailable"
            self.plan_cards.append(card)

        # Image tiles (servers): what a template builds for the plan (or the family) in the datacentre(s).
        self.image_groups: list[ImageGroup] = []
        self.stack_cards: list[Card] = []
        self.image_obj = None
        self.gpu_stack_obj = None
        if not self.is_vm:
            return
        scope_offers = [chosen_offer] if chosen_offer is not None else self.family_offers
        scope_dcs = [chosen_dc] if chosen_dc is not None else datacentres
        buildable = {
            choice
            for o in scope_offers
            for dc in scope_dcs
            for choice in (matrix.get((o.pk, dc.pk)).images if matrix.get((o.pk, dc.pk)) else ())  # type: ignore[union-attr]
        }
        anywhere = {choice for avail in matrix.values() for choice in avail.images}
        image_ids = {c.image_id for c in anywhere}
        images = [i for i in self.fields["image"].queryset if i.pk in image_ids]  # type: ignore[attr-defined]
        usable_ids = {c.image_id for c in buildable}
        image_slug = str(data.get("image") or "")
        groups: dict[str, ImageGroup] = {}
        for image in images:
            card = Card(value=image.slug, obj=image)
            if image.pk not in usable_ids:
                card.disabled, card.level = True, "unavailable"
                card.reason = str(_("Not built for this plan in this datacentre"))
            card.checked = image.slug == image_slug and not card.disabled
            if card.checked:
                self.image_obj = image
            group = groups.setdefault(
                image.family, ImageGroup(distribution=image.family, slug=slugify(image.family), versions=[])
            )
            group.versions.append(card)
        self.image_groups = list(groups.values())
        if self.is_gpu and self.image_obj is not None:
            image = self.image_obj
            stacks = [s for s in self.fields["gpu_stack"].queryset if s.base_image_id == image.pk]  # type: ignore[attr-defined]
            stack_slug = str(data.get("gpu_stack") or "")
            driver_only = ImageChoice(image.pk, None) in buildable
            none_card = Card(value="", obj=None, disabled=not driver_only, checked=not stack_slug and driver_only)
            if not driver_only:
                none_card.reason = str(_("Only the stacks below are built on this image here"))
            self.stack_cards = [none_card]
            for stack in stacks:
                card = Card(value=stack.slug, obj=stack)
                if ImageChoice(image.pk, stack.pk) not in buildable:
                    card.disabled, card.level = True, "unavailable"
                    card.reason = str(_("Not built for this plan in this datacentre"))
                card.checked = stack.slug == stack_slug and not card.disabled
                if card.checked:
                    self.gpu_stack_obj = stack
                self.stack_cards.append(card)
            self.fields["gpu_stack"].required = not driver_only

    # ------------------------------------------------------------------
    def clean_user_data(self) -> str:
        # Browsers send textareas with CRLF line ends; a "#!/bin/sh\r" script would not run.
        return str(self.cleaned_data.get("user_data") or "").replace("\r\n", "\n")

    def clean_quantity(self) -> int:
        return int(self.cleaned_data.get("quantity") or 1)

    def clean(self) -> dict[str, Any]:
        """A choice shown disabled is refused with the reason shown on its card (a crafted post)."""
        data = super().clean() or {}
        for name, cards in (
            ("offer", self.plan_cards),
            ("datacentre", self.datacentre_cards),
            ("image", [v for g in self.image_groups for v in g.versions]),
            ("gpu_stack", [c for c in self.stack_cards if c.value]),
        ):
            chosen = str(self.data.get(name) or "")
            card = next((c for c in cards if c.value == chosen), None)
            if chosen and card is not None and card.disabled and name not in self.errors:
                self.add_error(name, card.reason or _("This choice cannot be ordered right now."))
        if data.get("offer") is not None and self.offer_obj is None and "offer" not in self.errors:
            # A plan of another product than the one chosen (a crafted or stale post).
            self.add_error("offer", _("Choose a plan of the chosen product."))
        image_missing = self.is_vm and self.offer_obj is not None and not data.get("image")
        if image_missing and self.datacentre_obj is not None and "image" not in self.errors:
            self.add_error("image", _("Choose an operating system."))
        quantity = data.get("quantity") or 1
        dc_card = next((c for c in self.datacentre_cards if c.checked), None)
        count = dc_card.extra.get("count", -1) if dc_card is not None else -1
        if self.is_vm and count > 0 and quantity > count and "quantity" not in self.errors:
            self.add_error(
                "quantity",
                _("Only %(n)s of this plan can be placed in this datacentre right now.") % {"n": count},
            )
        if self.is_vm:
            for i in range(1, MAX_ORDER_VOLUMES + 1):
                size, tier = data.get(f"volume_size_{i}"), data.get(f"volume_tier_{i}")
                if size and not tier and f"volume_tier_{i}" not in self.errors:
                    self.add_error(f"volume_tier_{i}", _("Choose a tier for this volume."))
                if tier and not size and f"volume_size_{i}" not in self.errors:
                    self.add_error(f"volume_size_{i}", _("Give this volume a size."))
        if bool(data.get("new_ssh_key")) != bool(data.get("new_ssh_key_name")) and self.is_vm:
            self.add_error(
                "new_ssh_key_name" if data.get("new_ssh_key") else "new_ssh_key",
                _("Give both a name and the public key to add a key."),
            )
        return data

    def names(self) -> list[str]:
        """The server names to order: the name itself, or name-1 … name-N for several."""
        name = self.cleaned_data["name"]
        quantity = self.cleaned_data.get("quantity") or 1
        return [name] if quantity == 1 else [f"{name}-{i}" for i in range(1, quantity + 1)]

    def family_fields(self) -> list[Any]:
        """What the plan's family needs: a managed service's own fields (servers have the options step)."""
        return [self[name] for name in self.service_fields if name in self.fields]

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

    @property
    def chosen_plan(self) -> Card | None:
        """The chosen plan's card: its state in the chosen datacentre (``level``) is the summary's availability."""
        return next((c for c in self.plan_cards if c.checked), None)

    # The summary beside the form: the price of what is chosen, times the quantity.
    def summary(self) -> dict[str, Any] | None:
        if self.offer_obj is None:
            return None
        quantity = 1
        if self.is_vm:
            raw = self.cleaned_data.get("quantity") if hasattr(self, "cleaned_data") else None
            raw = raw or self.data.get("quantity") or self.initial.get("quantity") or 1
            try:
                quantity = max(1, min(QUANTITY_MAX, int(raw)))
            except (TypeError, ValueError):
                quantity = 1
        offer = self.offer_obj
        volumes = self._summary_volumes() if self.is_vm else []
        volumes_hourly = sum((v["hourly"] for v in volumes), Decimal(0))
        volumes_monthly = sum((v["monthly"] for v in volumes), Decimal(0))
        return {
            "offer": offer,
            "datacentre": self.datacentre_obj,
            "image": self.image_obj,
            "gpu_stack": self.gpu_stack_obj,
            "quantity": quantity,
            "volumes": volumes,
            "hourly": (offer.price_hourly + volumes_hourly) * quantity,
            "monthly": (offer.price_monthly + volumes_monthly) * quantity,
        }
