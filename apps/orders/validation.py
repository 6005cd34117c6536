"""Server-side checks of what a customer orders, shared by quotes and orders.

Each check returns field → messages (empty when fine) so the API can answer
one 400 listing every problem at once. Decisions written down here:

- an offer is orderable when ``active`` or ``hidden`` (hidden: by direct
  code) and listed in ``Offer.datacentres`` for the chosen datacentre, which
  must be operational;
- a VM offer needs an available image whose minimum RAM and disk the offer
  meets (Windows Server images need more RAM: their ``min_ram_gb``); a GPU
  software stack is only for GPU offers, and must be built on the chosen
  image; managed services (web hosting, PaaS, LB, storage, CDN) take no image;
- hostnames, user-data and SSH keys follow the rules of the servers they
  become, defined once in ``apps.instances`` (``rules.hostname_problems``:
  RFC 1123, a server's name is one lower-case label, a managed service's may
  be a domain; ``services.user_data_check``: cloud-init formats, 64 KiB, only
  where the datacentre can deliver it; ``services.ssh_key_ids_problems``: ids
  of the organisation's keys);
- a managed service (web hosting, PaaS, load balancer, CDN) takes a
  ``service`` object instead of an image, SSH keys and user-data, checked by
  ``apps.managed.validation.service_config_clean`` against the tier; a CDN
  origin named by id must be one of the organisation's servers or load
  balancers (``service_origin_resolver``). Its name is the service's: at
  most 63 characters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _

from apps.catalogue import choices as catalogue_choices
from apps.catalogue.models import Datacentre, GpuSoftwareStack, Offer, OsImage
from apps.core.errors import ValidationFailed
from apps.instances import services as instance_services
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.instances.rules import hostname_problems
from apps.managed import validation as service_validation
from apps.managed.choices import ENDED_STATES, ServiceFamily
from apps.managed.models import ManagedService
from apps.teams.models import Organisation

Errors = dict[str, list[str]]


def is_vm_offer(offer: Offer) -> bool:
    return offer.family.kind == catalogue_choices.FamilyKind.VIRTUAL_MACHINE


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def check_offer_place(*, offer: Offer, datacentre: Datacentre) -> Errors:
    """The offer is orderable, sold in the datacentre, and the datacentre is operational."""
    errors: Errors = {}
    if offer.billing_unit == catalogue_choices.BillingUnit.GB_MONTH:
        # Block storage is a volume with its own size and life (apps.volumes), not an order.
        _add(
            errors,
            "offer",
            _("%(offer)s is block storage: create a volume instead (Volumes page, or POST /api/v1/volumes/).")
            % {"offer": offer.code},
        )
        return errors
    if not offer.is_orderable:
        _add(errors, "offer", _("This offer can no longer be ordered."))
    if datacentre.status != catalogue_choices.DatacentreStatus.OPERATIONAL:
        _add(errors, "datacentre", _("%(dc)s is in maintenance.") % {"dc": datacentre.code})
    elif not offer.datacentres.filter(pk=datacentre.pk).exists():
        _add(errors, "datacentre", _("%(offer)s is not sold in %(dc)s.") % {"offer": offer.code, "dc": datacentre.code})
    return errors


def check_image(*, offer: Offer, image: OsImage | None, gpu_stack: GpuSoftwareStack | None) -> Errors:
    """The image (and GPU stack) fit the offer."""
    errors: Errors = {}
    if not is_vm_offer(offer):
        if image is not None:
            _add(errors, "image", _("This product does not take an operating system image."))
        if gpu_stack is not None:
            _add(errors, "gpu_stack", _("This product does not take a GPU software stack."))
        return errors
    if image is None:
        _add(errors, "image", _("Choose an operating system image."))
        return errors
    if image.status != catalogue_choices.ImageStatus.AVAILABLE:
        _add(errors, "image", _("This image is no longer offered."))
    if offer.ram_gb is not None and offer.ram_gb < image.min_ram_gb:
        _add(
            errors,
            "image",
            _("%(image)s needs at least %(ram)s GB of RAM; choose a larger plan.")
            % {"image": image, "ram": image.min_ram_gb},
        )
    if offer.disk_gb is not None and offer.disk_gb < image.min_disk_gb:
        _add(
            errors,
            "image",
            _("%(image)s needs at least %(disk)s GB of disk; choose a larger plan.")
            % {"image": image, "disk": image.min_disk_gb},
        )
    if gpu_stack is not None:
        if not offer.is_gpu:
            _add(errors, "gpu_stack", _("GPU software stacks are for GPU offers only."))
        elif gpu_stack.base_image_id != image.pk:
            _add(errors, "gpu_stack", _("This GPU stack is built on %(base)s.") % {"base": gpu_stack.base_image})
        elif gpu_stack.status != catalogue_choices.ImageStatus.AVAILABLE:
            _add(errors, "gpu_stack", _("This GPU stack is no longer offered."))
    return errors


def check_hostname(name: str, *, single_label: bool = False) -> Errors:
    """The name is a hostname (``apps.instances.rules.hostname_problems``: one rule for orders and servers)."""
    problems = hostname_problems(name, single_label=single_label)
    return {"name": problems} if problems else {}


def check_user_data(user_data: str, *, datacentre: Datacentre) -> tuple[Errors, str | None]:
    """Field messages for cloud-init user-data, and the error code (``invalid_user_data``, ``user_data_unavailable``).

    The rules live in ``apps.instances.services.user_data_check`` (formats, 64 KiB,
    YAML of ``#cloud-config``, a snippets storage in the datacentre).
    """
    try:
        instance_services.user_data_check(user_data, datacentre=datacentre)
    except ValidationFailed as exc:
        return {"user_data": exc.fields.get("user_data", [exc.message])}, exc.code
    return {}, None


def check_ssh_keys(*, organisation: Organisation, offer: Offer, ssh_key_ids: Sequence[str]) -> Errors:
    """SSH keys are for servers, and must be the organisation's (``apps.instances.services.ssh_key_ids_problems``)."""
    if not ssh_key_ids:
        return {}
    if not is_vm_offer(offer):
        return {"ssh_keys": [_("This product does not take SSH keys.")]}
    problems = instance_services.ssh_key_ids_problems(organisation=organisation, ssh_key_ids=ssh_key_ids)
    return {"ssh_keys": problems} if problems else {}


SERVICE_NAME_MAX = 63  # ManagedService.name


def is_service_offer(offer: Offer) -> bool:
    """A managed service sold as a resource (web hosting, PaaS, load balancer, CDN), not a server or storage."""
    return service_validation.service_family_of(offer) is not None


def service_origin_resolver(organisation: Organisation) -> service_validation.OriginResolver:
    """Find a CDN origin among ``organisation``'s servers (not deleted) and load balancers (not ended)."""

    def resolve(kind: str, public_id: str) -> Mapping[str, Any] | None:
        if kind == "server":
            server = (
                Instance.objects.filter(organisation=organisation, public_id=public_id)
                .exclude(status__in=(InstanceStatus.DELETING, InstanceStatus.DELETED))
                .values("name", "ipv4")
                .first()
            )
            if server is None:
                return None
            return {"name": server["name"], "address": server["ipv4"] or ""}
        balancer = (
            ManagedService.objects.filter(
                organisation=organisation, public_id=public_id, family=ServiceFamily.LOAD_BALANCER
            )
            .exclude(state__in=ENDED_STATES)
            .values("name")
            .first()
        )
        return {"name": balancer["name"]} if balancer is not None else None

    return resolve


def check_service(
    *, organisation: Organisation, offer: Offer, name: str, service: Mapping[str, Any] | None
) -> tuple[Errors, dict[str, Any], dict[str, str]]:
    """Field messages for a managed service's order, and its clean configuration and secrets.

    A server takes no ``service`` object; a managed service needs one (its
    family's fields, ``apps.managed.validation``).
    """
    if not is_service_offer(offer):
        if service:
            return {"service": [_("Servers take no service object: send image, ssh_keys and user_data.")]}, {}, {}
        return {}, {}, {}
    errors: Errors = {}
    if len(name) > SERVICE_NAME_MAX:
        _add(errors, "name", _("A service's name has at most 63 characters."))
    try:
        config, secrets = service_validation.service_config_clean(
            offer=offer, data=service or {}, resolve_origin=service_origin_resolver(organisation)
        )
    except ValidationFailed as exc:
        for field, messages in exc.fields.items():
            errors.setdefault(field, []).extend(messages)
        return errors, {}, {}
    return errors, config, secrets
