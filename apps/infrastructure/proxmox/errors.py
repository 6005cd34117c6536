"""Errors raised by the Proxmox driver.

Two families, so callers (Celery tasks) know what to retry:

* ``ProxmoxTransientError``: the same call may succeed later (a config lock
  timeout, HTTP 595 "node unreachable", connection errors, gateway timeouts).
  The driver already retried it a few times with backoff before raising.
* ``ProxmoxPermanentError``: retrying the same call will fail the same way
  (bad parameters, missing VM, bad token, 501).

``ProxmoxTaskFailed`` is neither by class: a worker task stopped with an
``exitstatus`` other than ``OK``; its ``is_transient`` says whether the text is a
lock timeout (docs/dev/proxmox-behaviour.md#locks: retry on "got timeout" / "VM is locked").

Every error carries ``status_code`` (HTTP status, or None) and ``message`` (the
PVE message: the reason phrase, docs/dev/proxmox-behaviour.md#error-responses).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

# Texts that mean "someone else holds the lock, try again later" (docs/dev/proxmox-behaviour.md#locks).
TRANSIENT_MARKERS: tuple[str, ...] = ("got timeout", "VM is locked", "trying to acquire lock")
# "got timeout" texts that are not about a lock: the guest ignored the ACPI shutdown request
# (qemu-server ``_do_vm_stop``: "VM quit/powerdown failed - got timeout"); retrying changes nothing.
NOT_TRANSIENT_MARKERS: tuple[str, ...] = ("powerdown failed",)


def is_transient_text(text: str) -> bool:
    """True when a PVE error text says the call or task may succeed later (a lock held by someone else)."""
    return any(marker in text for marker in TRANSIENT_MARKERS) and not any(
        marker in text for marker in NOT_TRANSIENT_MARKERS
    )


class ProxmoxError(Exception):
    """Base class of every driver error."""

    transient: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        errors: Mapping[str, str] | None = None,
        method: str = "",
        path: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.errors: dict[str, str] = dict(errors or {})
        self.method = method
        self.path = path

    @property
    def is_transient(self) -> bool:
        """True when the same call may succeed later (callers retry with backoff)."""
        return self.transient

    def __str__(self) -> str:
        where = f" ({self.method} {self.path})" if self.method else ""
        code = f"{self.status_code} " if self.status_code is not None else ""
        details = f" {self.errors}" if self.errors else ""
        return f"{code}{self.message}{details}{where}"


class ProxmoxTransientError(ProxmoxError):
    """Lock timeout, 595/596 (node unreachable), connection error or 5xx timeout: retry later."""

    transient = True


class ProxmoxTaskTimeout(ProxmoxTransientError):
    """The driver stopped waiting for a task that is still running; the task may still finish."""

    def __init__(self, message: str, *, upid: str, node: str = "") -> None:
        super().__init__(message)
        self.upid = upid
        self.node = node


class ProxmoxPermanentError(ProxmoxError):
    """The same call would fail the same way: do not retry."""


class ProxmoxAuthError(ProxmoxPermanentError):
    """401 (bad or missing API token) or 403 (permission check failed)."""


class ProxmoxNotFound(ProxmoxPermanentError):
    """The VM, snapshot, node, mapping or task does not exist."""


class ProxmoxStorageFull(ProxmoxPermanentError):
    """The storage has less free space than a new or grown volume needs (checked by the driver before the call:
    PVE's own texts come from lvcreate, rbd or zfs and differ per storage; docs/dev/proxmox-behaviour.md#volumes)."""


class ProxmoxGuestAgentError(ProxmoxPermanentError):
    """HTTP 500 ``Agent error: …``: the QEMU guest agent ran the call and it failed inside the guest (a file whose
    directory is missing, an exec pid it no longer knows, a program it cannot spawn).
    docs/dev/proxmox-behaviour.md#guest-agent-files-exec."""


class ProxmoxGuestAgentNotRunning(ProxmoxTransientError):
    """HTTP 500 ``QEMU guest agent is not running``: the VM runs but its agent does not answer yet (booting) or
    any more; the same call may succeed later (docs/dev/proxmox-behaviour.md#guest-agent)."""


class ProxmoxGuestExecTimeout(ProxmoxTransientError):
    """The driver stopped waiting for a guest ``exec`` that still runs: wait again on ``pid``, never exec again."""

    def __init__(self, message: str, *, pid: int, node: str = "", vmid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid
        self.node = node
        self.vmid = vmid


class ProxmoxParameterError(ProxmoxPermanentError):
    """400 "Parameter verification failed."; ``errors`` maps each parameter to PVE's reason."""


class ProxmoxTaskFailed(ProxmoxError):
    """A worker task stopped with an exitstatus other than ``OK`` / ``WARNINGS: n``.

    ``message`` is the exitstatus (PVE's ``TASK ERROR`` text), ``log_tail`` the
    last lines of the task log, ``upid`` the task.
    """

    def __init__(self, *, upid: str, exitstatus: str, log_tail: tuple[str, ...] = (), node: str = "") -> None:
        super().__init__(exitstatus)
        self.upid = upid
        self.exitstatus = exitstatus
        self.log_tail = log_tail
        self.node = node

    @property
    def is_transient(self) -> bool:
        return is_transient_text(self.exitstatus)

    def __str__(self) -> str:
        return f"task {self.upid} failed: {self.exitstatus}"
