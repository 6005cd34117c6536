"""The automated backend of the ``load_balancer`` family (``apps.managed.backends``, registered in ``apps.py``).

``LoadBalancerBackend``:

* ``provision``: the ``LoadBalancer`` row from the order's configuration, then its VM (the
  load-balancer template, through ``apps.instances``' provisioning chain) with the first
  configuration in its cloud-init user-data. Not done yet: the service becomes active when the
  VM runs and HAProxy answers (``services.lb_apply``, enqueued by the VM's ``running``).
* ``change`` (a tier change): the tier's limits are part of the configuration, so it is applied again.
* ``suspend`` / ``resume``: the VM is stopped / started (HAProxy starts with it).
* ``terminate``: the VM is deleted.
* ``status``: from the VM's status, never invented.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F

from apps.core.errors import Unavailable, ValidationFailed
from apps.core.services import task_enqueue
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.loadbalancers import task_names
from apps.loadbalancers.models import LoadBalancer
from apps.loadbalancers.services.changes import lb_ensure
from apps.loadbalancers.services.vm import lb_vm_create, lb_vm_delete, lb_vm_power
from apps.managed.backends import BackendError, BackendResult, BackendStatus
from apps.managed.models import ManagedService


class LoadBalancerBackend:
    """HAProxy on a platform VM per load balancer (apps/docs/content/load-balancer-engine.md, "The resource")."""

    staff_fulfilled = False

    def provision(self, service: ManagedService, *, secrets: dict[str, str]) -> BackendResult:
        try:
            lb = lb_ensure(service=service)
            instance = lb_vm_create(lb=lb)
        except Unavailable as exc:  # no capacity in the datacentre now: worth a retry
            raise BackendError(str(exc), transient=True) from exc
        except (ValidationFailed, ObjectDoesNotExist) as exc:
            # The platform cannot build it (the VM's offer or image is not configured, no datacentre): staff see
            # the service stay in provisioning with the reason on its load balancer (the back office).
            LoadBalancer.objects.filter(service=service).update(apply_error=f"provision: {exc}"[:2000])
            raise BackendError(f"load balancer {service.pk}: {exc}") from exc
        return BackendResult(done=False, backend_ref=str(instance.public_id))

    def change(self, service: ManagedService, *, secrets: dict[str, str]) -> BackendResult:
        lb = lb_ensure(service=service)
        LoadBalancer.objects.filter(pk=lb.pk).update(config_generation=F("config_generation") + 1)
        task_enqueue(task_names.APPLY, lb.pk)
        return BackendResult(done=True)

    def suspend(self, service: ManagedService) -> BackendResult:
        lb_vm_power(lb=lb_ensure(service=service), on=False)
        return BackendResult(done=True)

    def resume(self, service: ManagedService) -> BackendResult:
        lb_vm_power(lb=lb_ensure(service=service), on=True)
        return BackendResult(done=True)

    def terminate(self, service: ManagedService) -> BackendResult:
        lb = LoadBalancer.objects.filter(service=service).first()
        if lb is not None:
            lb_vm_delete(lb=lb)
        return BackendResult(done=True)

    def status(self, service: ManagedService) -> BackendStatus:
        lb = LoadBalancer.objects.filter(service=service).first()
        instance = Instance.objects.filter(pk=lb.instance_id).first() if lb and lb.instance_id else None
        if instance is None or instance.status == InstanceStatus.DELETED:
            return BackendStatus(state="absent")
        if instance.status == InstanceStatus.RUNNING:
            return BackendStatus(state="active", detail=f"VM {instance.public_id} running")
        if instance.status == InstanceStatus.STOPPED:
            return BackendStatus(state="suspended", detail=f"VM {instance.public_id} stopped")
        return BackendStatus(state="unknown", detail=f"VM {instance.public_id} {instance.status}")
