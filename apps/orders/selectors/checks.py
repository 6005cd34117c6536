"""Server-side checks of what a customer orders, shared by quotes and orders.

Each check returns field → messages (empty when fine) so the API can answer
one 400 listing every problem at once. This module holds the checks that read
the database; the pure ones are in ``apps.orders.rules`` (offer kind, image,
name, option limits) and the two that go through ``apps.instances``' services
(user-data, SSH key ids) in ``apps.orders.services.checks``. Decisions written
down here, for all of them:

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
  ``apps.managed.rules.service_config_clean`` against the tier; a CDN
  origin named by id must be one of the organisation's servers or load
  balancers (``service_origin_resolver``). Its name is the service's: at
  most 63 characters;
- a server's options (``check_options``): labels with the syntax of
  ``apps.core.labels``; private networks of the order's project, in its
  datacentre and available (the networks' own rule for attaching a server);
  firewalls of the project, at most the per-server limit; volumes of a block
  storage tier sold in the datacentre, with the volumes' size rule
  (``apps.volumes.rules.size_error``), at most ``MAX_ORDER_VOLUMES``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _

from apps.catalogue import choices as catalogue_choices
from apps.catalogue.models import Datacentre, Offer
from apps.core.errors import ValidationFailed
from apps.core.labels import labels_validate
from apps.firewalls import rules as firewall_rules
from apps.firewalls.choices import FirewallStatus
from apps.firewalls.models import Firewall
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.managed import rules as service_validation
from apps.managed.choices import ENDED_STATES, ServiceFamily
from apps.managed.models import ManagedService
from apps.networks.choices import NetworkStatus
from apps.networks.models import Network
from apps.orders.rules.errors import Errors, _add
from apps.orders.rules.names import SERVICE_NAME_MAX
from apps.orders.rules.offers import is_vm_offer
from apps.orders.rules.options import MAX_ORDER_VOLUMES, STORAGE_FAMILY, _ids_clean
from apps.teams.models import Organisation, Project
from apps.volumes import rules as volume_rules


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
    family's fields, ``apps.managed.rules``).
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


def check_options(
    *,
    organisation: Organisation,
    project: Project,
    offer: Offer,
    datacentre: Datacentre,
    labels: Mapping[str, str] | None,
    network_ids: Sequence[Any],
    firewall_ids: Sequence[Any],
    volumes: Sequence[Mapping[str, Any]],
) -> tuple[Errors, dict[str, Any]]:
    """A server's options: field → messages, and the clean options (``labels``, ``network_ids``,
    ``firewall_ids``, ``volumes``) to store on the order."""
    errors: Errors = {}
    clean: dict[str, Any] = {"labels": {}, "network_ids": [], "firewall_ids": [], "volumes": []}
    given = {"labels": labels, "network_ids": network_ids, "firewall_ids": firewall_ids, "volumes": volumes}
    if not is_vm_offer(offer):
        for field, value in given.items():
            if value:
                _add(errors, field, _("Only servers take this option."))
        return errors, clean
    try:
        clean["labels"] = labels_validate(labels)
    except ValidationFailed as exc:
        for message in (exc.fields or {}).get("labels", [str(exc)]):
            _add(errors, "labels", message)

    ids = _ids_clean(network_ids or (), "network_ids", errors)
    found = {
        str(n.public_id): n
        for n in Network.objects.filter(organisation=organisation, public_id__in=ids).select_related("datacentre")
    }
    for public_id in ids:
        network = found.get(public_id)
        if network is None:
            _add(errors, "network_ids", _("“%(id)s” is not one of your networks.") % {"id": public_id})
        elif network.project_id != project.pk:
            _add(errors, "network_ids", _("The network %(name)s is in another project.") % {"name": network.name})
        elif network.datacentre_id != datacentre.pk:
            _add(
                errors,
                "network_ids",
                _("The network %(name)s is in %(dc)s, not in the chosen datacentre.")
                % {"name": network.name, "dc": network.datacentre.code},
            )
        elif network.status != NetworkStatus.AVAILABLE:
            _add(errors, "network_ids", _("The network %(name)s is not available.") % {"name": network.name})
    clean["network_ids"] = ids

    ids = _ids_clean(firewall_ids or (), "firewall_ids", errors)
    firewalls = {
        str(f.public_id): f
        for f in Firewall.objects.filter(organisation=organisation, public_id__in=ids, status=FirewallStatus.ACTIVE)
    }
    for public_id in ids:
        firewall = firewalls.get(public_id)
        if firewall is None:
            _add(errors, "firewall_ids", _("“%(id)s” is not one of your firewalls.") % {"id": public_id})
        elif firewall.project_id != project.pk:
            _add(errors, "firewall_ids", _("The firewall %(name)s is in another project.") % {"name": firewall.name})
    if len(ids) > firewall_rules.MAX_FIREWALLS_PER_SERVER:
        _add(
            errors,
            "firewall_ids",
            _("A server uses at most %(n)s firewalls.") % {"n": firewall_rules.MAX_FIREWALLS_PER_SERVER},
        )
    clean["firewall_ids"] = ids

    if len(volumes or ()) > MAX_ORDER_VOLUMES:
        _add(errors, "volumes", _("At most %(n)s volumes with a server.") % {"n": MAX_ORDER_VOLUMES})
        volumes = ()
    for index, spec in enumerate(volumes or ()):
        field = f"volumes[{index}]"
        tier_code = str(spec.get("tier") or "") if isinstance(spec, Mapping) else ""
        tier = (
            Offer.objects.filter(code=tier_code, family__slug=STORAGE_FAMILY, datacentres=datacentre)
            .exclude(status=catalogue_choices.OfferStatus.RETIRED)
            .first()
            if tier_code
            else None
        )
        if tier is None:
            _add(errors, f"{field}.tier", _("Choose a block storage tier sold in the chosen datacentre."))
        try:
            size_gb = int(spec.get("size_gb") or 0) if isinstance(spec, Mapping) else 0
        except (TypeError, ValueError):
            size_gb = 0
        problem = volume_rules.size_error(size_gb)
        if problem:
            _add(errors, f"{field}.size_gb", problem)
        if tier is not None and not problem:
            clean["volumes"].append({"tier": tier.code, "size_gb": size_gb})
    return errors, clean


def check_networks_reachable(*, network_ids: Sequence[str], cluster_id: int) -> None:
    """Once capacity is reserved: every network ordered is on the cluster of the reserved server
    (a private network lives on one cluster: apps/docs/content/networks.md). A 400 naming the field."""
    if not network_ids:
        return
    far = list(
        Network.objects.filter(public_id__in=network_ids).exclude(cluster_id=cluster_id).values_list("name", flat=True)
    )
    if far:
        message = _("The network %(name)s cannot reach a server placed now: choose another network.") % {"name": far[0]}
        raise ValidationFailed(_("The order is not valid."), fields={"network_ids": [message]})
