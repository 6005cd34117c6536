"""Enumerations of the instances app, shared by models, services, API and admin."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class InstanceStatus(models.TextChoices):
    """The platform's lifecycle of an instance (what the customer sees)."""

    PROVISIONING = "provisioning", _("Provisioning")
    RUNNING = "running", _("Running")
    STOPPED = "stopped", _("Stopped")
    REBOOTING = "rebooting", _("Rebooting")
    RESIZING = "resizing", _("Resizing")
    REBUILDING = "rebuilding", _("Rebuilding")
    DELETING = "deleting", _("Deleting")
    DELETED = "deleted", _("Deleted")
    ERROR = "error", _("Error")


S = InstanceStatus

# The explicit state machine: a status may only move to one listed here.
# Services check every change against it (``instance_transition``).
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PROVISIONING: frozenset({S.RUNNING, S.ERROR, S.DELETING}),
    S.RUNNING: frozenset({S.STOPPED, S.REBOOTING, S.RESIZING, S.REBUILDING, S.DELETING, S.ERROR}),
    S.STOPPED: frozenset({S.RUNNING, S.RESIZING, S.REBUILDING, S.DELETING, S.ERROR}),
    S.REBOOTING: frozenset({S.RUNNING, S.STOPPED, S.ERROR}),
    S.RESIZING: frozenset({S.RUNNING, S.STOPPED, S.ERROR}),
    S.REBUILDING: frozenset({S.RUNNING, S.STOPPED, S.ERROR, S.DELETING}),
    S.DELETING: frozenset({S.DELETED, S.ERROR}),
    S.ERROR: frozenset({S.PROVISIONING, S.RUNNING, S.STOPPED, S.DELETING}),
    S.DELETED: frozenset(),
}

# Statuses in which an instance still holds (or is about to hold) a VM.
LIVE_STATUSES = frozenset(set(S) - {S.DELETED})


class PowerState(models.TextChoices):
    """What Proxmox last reported (``status/current``; docs/dev/proxmox-behaviour.md#vm-status)."""

    UNKNOWN = "unknown", _("Unknown")
    RUNNING = "running", _("Running")
    STOPPED = "stopped", _("Stopped")
    PAUSED = "paused", _("Paused")


class ProvisionStep(models.TextChoices):
    """Where provisioning (or a rebuild) stands; each step resumes from its persisted identity."""

    VMID = "vmid", _("Check the VMID")
    CLONE = "clone", _("Clone the template")
    CONFIGURE = "configure", _("Configure")
    RESIZE = "resize", _("Resize the disk")
    START = "start", _("Start")
    NETWORK = "network", _("Wait for the guest network")
    DONE = "done", _("Done")


PROVISION_ORDER = [
    ProvisionStep.VMID,
    ProvisionStep.CLONE,
    ProvisionStep.CONFIGURE,
    ProvisionStep.RESIZE,
    ProvisionStep.START,
    ProvisionStep.NETWORK,
    ProvisionStep.DONE,
]
# Progress shown on the provisioning Action when a step begins.
STEP_PROGRESS = {
    ProvisionStep.VMID: 5,
    ProvisionStep.CLONE: 10,
    ProvisionStep.CONFIGURE: 50,
    ProvisionStep.RESIZE: 60,
    ProvisionStep.START: 70,
    ProvisionStep.NETWORK: 90,
    ProvisionStep.DONE: 100,
}


class ActionType(models.TextChoices):
    CREATE = "create", _("Create")
    START = "start", _("Start")
    STOP = "stop", _("Stop")
    SHUTDOWN = "shutdown", _("Shut down")
    REBOOT = "reboot", _("Reboot")
    RESET = "reset", _("Reset")
    RESIZE = "resize", _("Resize")
    REBUILD = "rebuild", _("Rebuild")
    RESET_PASSWORD = "reset_password", _("Reset root password")
    SNAPSHOT_CREATE = "snapshot_create", _("Create snapshot")
    SNAPSHOT_ROLLBACK = "snapshot_rollback", _("Roll back to snapshot")
    SNAPSHOT_DELETE = "snapshot_delete", _("Delete snapshot")
    DELETE = "delete", _("Delete")
    # Actions on the resources around a server (issue 13); the same vocabulary as Hetzner's actions.
    ATTACH = "attach", _("Attach")
    DETACH = "detach", _("Detach")
    APPLY = "apply", _("Apply")
    ASSIGN = "assign", _("Assign")
    UNASSIGN = "unassign", _("Unassign")


class ActionResource(models.TextChoices):
    """What an Action acts on: ``Action.resource_type`` with ``resource_id`` (the resource's public id)."""

    SERVER = "server", _("Server")
    VOLUME = "volume", _("Volume")
    NETWORK = "network", _("Network")
    FIREWALL = "firewall", _("Firewall")
    FLOATING_IP = "floating_ip", _("Floating IP")


class ActionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    SUCCESS = "success", _("Success")
    ERROR = "error", _("Error")


OPEN_ACTION_STATUSES = (ActionStatus.PENDING, ActionStatus.RUNNING)

# Power actions: type → (statuses it starts from, status while it runs, status after).
POWER_ACTIONS: dict[str, tuple[frozenset[str], str | None, str]] = {
    ActionType.START: (frozenset({S.STOPPED}), None, S.RUNNING),
    ActionType.STOP: (frozenset({S.RUNNING}), None, S.STOPPED),
    ActionType.SHUTDOWN: (frozenset({S.RUNNING}), None, S.STOPPED),
    ActionType.REBOOT: (frozenset({S.RUNNING}), S.REBOOTING, S.RUNNING),
    ActionType.RESET: (frozenset({S.RUNNING}), S.REBOOTING, S.RUNNING),
}


class SnapshotStatus(models.TextChoices):
    CREATING = "creating", _("Creating")
    AVAILABLE = "available", _("Available")
    ROLLING_BACK = "rolling_back", _("Rolling back")
    DELETING = "deleting", _("Deleting")
    DELETED = "deleted", _("Deleted")
    ERROR = "error", _("Error")


class ScheduleFrequency(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


class DriftKind(models.TextChoices):
    ORPHAN = "orphan", _("Orphan VM (in Proxmox, unknown to the platform)")
    MISSING = "missing", _("Missing VM (in the platform, gone from Proxmox)")
    POWER = "power", _("Power state differed (fixed)")
    STUCK = "stuck", _("Stuck operation failed")
    UNREACHABLE = "unreachable", _("Host unreachable (VM status unknown)")


class DriftStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")
    ADOPTED = "adopted", _("Adopted")
    QUARANTINED = "quarantined", _("Quarantined")
