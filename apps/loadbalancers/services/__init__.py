"""Writes of load balancers (docs/dev/style.md#services), one module per topic, re-exported here.

Callers write ``from apps.loadbalancers import services`` then ``services.lb_rules_set(...)``:

* ``changes``: the ``LoadBalancer`` row (``lb_ensure``) and the customer's changes (rules, targets,
  health check, certificate, settings): lock, check, save, bump ``config_generation``, audit, enqueue
  the apply;
* ``vm``: the load balancer's VM in the platform's project, its first configuration, create,
  delete, power;
* ``apply``: applying the newest configuration to the VM (``lb_apply``, the runner of ``tasks.apply``),
  joining the targets' private networks, reading the targets' health, staff's apply again;
* ``following``: targets following the customer's servers (status changes, label edits, the beat's
  safety net);
* ``backend``: ``LoadBalancerBackend``, the automated backend of the ``load_balancer`` family
  (``apps.managed.backends``, registered in ``apps.py``).

The engine itself (spec, HAProxy configuration, certificates, health, delivery plan) is pure and
lives in ``apps.loadbalancers.rules``.
"""

from __future__ import annotations

from apps.loadbalancers.services.apply import (
    ApplyFailed,
    lb_apply,
    lb_apply_again,
    lb_health_read,
    lb_networks_sync,
    plan_run,
    render_spec,
)
from apps.loadbalancers.services.backend import LoadBalancerBackend
from apps.loadbalancers.services.changes import (
    LbErrorCode,
    lb_certificate_upload,
    lb_ensure,
    lb_health_check_set,
    lb_rules_set,
    lb_settings_update,
    lb_targets_set,
)
from apps.loadbalancers.services.following import (
    lb_on_instance_status,
    lb_on_server_changed,
    lb_sync_all,
    lb_targets_refresh,
)
from apps.loadbalancers.services.vm import first_config, lb_vm_create, lb_vm_delete, lb_vm_power, platform_project

__all__ = [
    "ApplyFailed",
    "LbErrorCode",
    "LoadBalancerBackend",
    "first_config",
    "lb_apply",
    "lb_apply_again",
    "lb_certificate_upload",
    "lb_ensure",
    "lb_health_check_set",
    "lb_health_read",
    "lb_networks_sync",
    "lb_on_instance_status",
    "lb_on_server_changed",
    "lb_rules_set",
    "lb_settings_update",
    "lb_sync_all",
    "lb_targets_refresh",
    "lb_targets_set",
    "lb_vm_create",
    "lb_vm_delete",
    "lb_vm_power",
    "plan_run",
    "platform_project",
    "render_spec",
]
