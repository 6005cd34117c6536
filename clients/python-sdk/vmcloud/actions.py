"""Actions: the platform's asynchronous operations, with ``wait()``.

Creating, deleting, powering, resizing, rebuilding a server, taking a
snapshot, and every long operation on a volume, network, firewall or floating
IP answers ``202`` with an Action (``GET /api/v1/actions/{id}/`` serves them all;
docs page ``/docs/api-overview/``). ``Action`` is that JSON object (a
``dict``) with methods to follow it until it ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import ActionFailed, ActionTimeout

if TYPE_CHECKING:
    from .client import Client

FINISHED = ("success", "error")


class Action(dict[str, Any]):
    """One Action: the API's JSON object plus ``refresh()`` and ``wait()``."""

    def __init__(self, client: Client, data: dict[str, Any]) -> None:
        super().__init__(data)
        self._client = client

    @property
    def id(self) -> str:
        return str(self["id"])

    @property
    def status(self) -> str:
        return str(self.get("status") or "pending")

    @property
    def progress(self) -> int:
        return int(self.get("progress") or 0)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def refresh(self) -> Action:
        """Reload this Action from the API (``GET /api/v1/actions/{id}/``)."""
        latest = self._client.actions_retrieve(self.id)
        self.clear()
        self.update(latest)
        return self

    def wait(
        self,
        timeout: float = 900.0,
        *,
        poll_interval: float = 1.0,
        on_progress: Callable[[Action], None] | None = None,
    ) -> Action:
        """Poll until the Action ends; return it on ``success``.

        Raises ``ActionFailed`` when it ends with ``error`` (its ``error``
        object says why) and ``ActionTimeout`` after ``timeout`` seconds (the
        Action goes on on the platform). ``on_progress`` is called after every
        poll, e.g. to draw a progress bar. Polls start fast and slow down to
        ``poll_interval`` so that quick Actions return quickly.
        """
        deadline = time.monotonic() + timeout
        delay = min(0.1, poll_interval)
        if on_progress is not None:
            on_progress(self)
        while not self.finished:
            if time.monotonic() >= deadline:
                raise ActionTimeout(dict(self), timeout)
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, poll_interval)
            self.refresh()
            if on_progress is not None:
                on_progress(self)
        if self.status == "error":
            raise ActionFailed(dict(self))
        return self
