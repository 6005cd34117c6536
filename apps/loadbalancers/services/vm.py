"""The load balancer's VM: the platform's project that holds it, its first configuration, create, delete, power.

The VM is an instance of the platform's own organisation (``LOADBALANCERS_PLATFORM_ORGANISATION``),
built from the load-balancer template through ``apps.instances``' provisioning chain, with the
first configuration in its cloud-init user-data. That configuration carries no certificate, so no
private key ever sits in the VM's stored user-data: the apply that activates the service writes it
through the guest agent (``services.apply``).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from apps.catalogue.models import Offer, OsImage
from apps.core.errors import Conflict
from apps.core.services import audit_record
from apps.infrastructure import services as placement
from apps.instances import services as instance_services
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.loadbalancers import selectors
from apps.loadbalancers.models import LoadBalancer
from apps.loadbalancers.rules.delivery import user_data_render
from apps.loadbalancers.rules.haproxy import haproxy_config_render
from apps.loadbalancers.services.apply import render_spec
from apps.teams.models import Organisation, Project

logger = logging.getLogger(__name__)


def platform_project() -> Project:
    """The platform's own project that holds every load balancer's VM (created on first use)."""
    slug = settings.LOADBALANCERS_PLATFORM_ORGANISATION
    organisation, _created = Organisation.objects.get_or_create(slug=slug, defaults={"name": "Platform load balancers"})
    project = Project.objects.filter(organisation=organisation).order_by("pk").first()
    if project is None:
        project = Project.objects.create(
            organisation=organisation, name="Load balancers", slug="load-balancers", is_default=True
        )
    return project


def first_config(lb: LoadBalancer) -> str:
    """The configuration the VM boots with: everything but TLS termination (its key comes by the guest agent)."""
    spec = render_spec(lb, selectors.lb_spec(lb, certificate=None))
    return haproxy_config_render(spec)


def lb_vm_create(*, lb: LoadBalancer) -> Instance:
    """Reserve and create the load balancer's VM (idempotent: an existing one is returned)."""
    if lb.instance_id is not None:
        return Instance.objects.get(pk=lb.instance_id)
    offer = Offer.objects.get(code=settings.LOADBALANCERS_VM_OFFER)
    image = OsImage.objects.get(slug=settings.LOADBALANCERS_VM_IMAGE)
    project = platform_project()
    with transaction.atomic():
        locked = LoadBalancer.objects.select_for_update(of=("self",)).select_related("service").get(pk=lb.pk)
        if locked.instance_id is not None:
            return Instance.objects.get(pk=locked.instance_id)
        reservation = placement.placement_reserve(
            offer=offer, datacentre=locked.datacentre, image=image, holder_ref=locked.service.public_id
        )
        user_data = user_data_render(config=first_config(locked)) if reservation.cluster.has_snippets else ""
        instance, _action = instance_services.instance_create(
            organisation=project.organisation,
            project=project,
            offer=offer,
            datacentre=locked.datacentre,
            image=image,
            name=f"lb-{locked.service.public_id.hex[:12]}",
            ssh_keys=[],
            user_data=user_data,
            reservation=reservation,
            price_hourly=offer.price_hourly * 0,
            price_monthly=offer.price_monthly * 0,
            actor=None,
            labels={"platform": "load-balancer", "service": str(locked.service.public_id)},
        )
        locked.instance = instance
        locked.save(update_fields=["instance", "updated_at"])
        audit_record(
            actor=None,
            action="loadbalancers.vm.create",
            target=locked.service,
            organisation_id=locked.service.organisation_id,
            changes={"instance": str(instance.public_id), "offer": offer.code, "image": image.slug},
        )
    return instance


def lb_vm_delete(*, lb: LoadBalancer) -> None:
    """Delete the VM (gone already, or being deleted: fine)."""
    instance = Instance.objects.filter(pk=lb.instance_id).first() if lb.instance_id else None
    if instance is None or instance.status in (InstanceStatus.DELETING, InstanceStatus.DELETED):
        return
    instance_services.instance_delete(instance=instance, actor=None)


def lb_vm_power(*, lb: LoadBalancer, on: bool) -> None:
    instance = Instance.objects.filter(pk=lb.instance_id).first() if lb.instance_id else None
    if instance is None:
        return
    try:
        if on:
            instance_services.instance_start(instance=instance, actor=None)
        else:
            instance_services.instance_stop(instance=instance, actor=None)
    except Conflict:  # already in that state, or an operation runs: the state machine knows better
        logger.info("load balancer %s: power %s refused for its VM", lb.pk, on)
