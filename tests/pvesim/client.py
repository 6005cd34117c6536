"""A proxmoxer client on the simulator, as ``apps.infrastructure.proxmox.driver`` builds it (token auth, HTTPS,
the test CA), and small helpers to wait for a task and read an error (docs/dev/proxmox-behaviour.md#proxmoxer)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from proxmoxer import ProxmoxAPI, ResourceException

from apps.pvesim.server import PveSimulator


def connect(sim: PveSimulator) -> ProxmoxAPI:
    parts = urlsplit(sim.url)
    user, _, token_name = sim.token_id.partition("!")
    return ProxmoxAPI(
        parts.hostname,
        port=parts.port,
        user=user,
        token_name=token_name,
        token_value=sim.token_secret,
        verify_ssl=str(sim.ca_path),
        timeout=10,
        backend="https",
    )


def task(pve: ProxmoxAPI, upid: str) -> dict[str, Any]:
    """The status of a (0-second) task: stopped, with its exitstatus."""
    node = upid.split(":")[1]
    return pve.nodes(node).tasks(upid).status.get()


def task_log(pve: ProxmoxAPI, upid: str) -> list[str]:
    node = upid.split(":")[1]
    return [row["t"] for row in pve.nodes(node).tasks(upid).log.get()]


def exitstatus(pve: ProxmoxAPI, upid: str) -> str:
    return str(task(pve, upid).get("exitstatus"))


def refused(call: Any, *args: Any, **kwargs: Any) -> ResourceException:
    """Run a proxmoxer call that must fail; return the exception (status_code, content = reason, errors)."""
    with pytest.raises(ResourceException) as info:
        call(*args, **kwargs)
    return info.value


def clone(pve: ProxmoxAPI, newid: int, *, template: int = 9000, node: str = "pve1", **params: Any) -> None:
    upid = pve.nodes(node).qemu(template).clone.post(newid=newid, **params)
    assert exitstatus(pve, upid) == "OK"
