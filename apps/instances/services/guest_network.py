"""The guest's cloud-init network configuration when it must say more than PVE's ``ipconfigN`` can.

PVE generates the guest's network-config from ``netN`` (the card's MAC) and
``ipconfigN`` (one IPv4 and one IPv6 address per card, qm(1) "Cloud-Init
Support"). A floating IP routed to a server is a second IPv4 address on the
public card, which ``ipconfig0`` cannot hold. So while a server has such extra
addresses, the platform writes the whole network-config itself, as a snippet
given to PVE by ``cicustom network=<storage>:snippets/vmc-<id>-network.yaml``
(docs/dev/proxmox-behaviour.md#cloudinit-network): the same NoCloud
"version: 1" document PVE would generate from ``netN``/``ipconfigN`` and the
nameservers, plus each extra address as a ``/32`` static subnet of ``eth0``.
When the last extra address goes, the ``network=`` part and the file are
removed and PVE generates the configuration again.

The apps above register where extra addresses come from
(``guest_address_provider_register``: apps.floating_ips), and every writer of
``ipconfigN`` (apps.networks) calls ``guest_network_sync`` after it, so the file
never lags behind the cards. The guest applies it at its next boot: PVE derives
the NoCloud ``instance-id`` from the network-config it serves, so a changed file
is a new instance-id and cloud-init renders the network again. Without a
snippets storage on the cluster nothing is written (the per-OS commands on the
server page remain the way to configure the address).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from apps.infrastructure.proxmox.driver import ProxmoxDriver
from apps.infrastructure.proxmox.errors import ProxmoxTransientError
from apps.infrastructure.services import snippet_delete, snippet_write
from apps.instances.models import Instance

logger = logging.getLogger(__name__)


class GuestNetworkUnwritable(ProxmoxTransientError):
    """The snippets share could not be written (unmounted, full): retried by the action's task like an outage."""


GuestAddressProvider = Callable[[Instance], Sequence[str]]
_providers: dict[str, GuestAddressProvider] = {}


def guest_address_provider_register(*, key: str, provider: GuestAddressProvider) -> None:
    """Register ``provider(server) -> [IPv4 address, …]``: extra addresses the server's public card holds.

    Called from an app's ``ready()``; registering a key again replaces it (the test runner reloads apps).
    """
    _providers[key] = provider


def guest_extra_addresses(server: Instance) -> list[str]:
    """Every registered provider's extra addresses for ``server``, sorted, without duplicates."""
    found: set[str] = set()
    for provider in _providers.values():
        found.update(str(address) for address in provider(server))
    return sorted(found, key=ipaddress.ip_address)


def guest_network_snippet_name(server: Instance) -> str:
    """The network-config snippet of a server: one per server, a fixed name."""
    return f"vmc-{server.public_id}-network.yaml"


def _kv(text: str) -> dict[str, str]:
    return dict(part.partition("=")[::2] for part in str(text).split(",") if "=" in part)


def _mac(net: str) -> str:
    # ``virtio=BC:24:11:…,bridge=vmbr0``: the first part is model=MAC.
    return str(net).split(",")[0].partition("=")[2].lower()


def guest_network_config(options: Mapping[str, Any], extra: Sequence[str]) -> str:
    """The NoCloud network-config (version 1) of a VM's ``options`` plus ``extra`` /32 addresses on ``eth0``.

    Mirrors what PVE generates from ``ipconfigN`` (qm(1) "Cloud-Init Support"):
    ``ip=dhcp`` is ``dhcp4``, ``ip6=auto`` is ``ipv6_slaac``, ``ip6=dhcp`` is
    ``dhcp6``, static addresses carry their prefix and gateway.
    """
    lines = ["version: 1", "config:"]
    indexes = sorted(int(key[len("ipconfig") :]) for key in options if key.startswith("ipconfig"))
    if extra and 0 not in indexes:
        indexes = [0, *indexes]
    for index in indexes:
        ip = _kv(str(options.get(f"ipconfig{index}", "")))
        lines += [
            "    - type: physical",
            f"      name: eth{index}",
            f"      mac_address: '{_mac(str(options.get(f'net{index}', '')))}'",
            "      subnets:",
        ]
        v4, v6 = ip.get("ip"), ip.get("ip6")
        if v4 == "dhcp":
            lines.append("      - type: dhcp4")
        elif v4:
            lines += ["      - type: static", f"        address: '{v4}'"]
            if ip.get("gw"):
                lines.append(f"        gateway: '{ip['gw']}'")
        if index == 0:
            lines += [
                item for address in extra for item in ("      - type: static", f"        address: '{address}/32'")
            ]
        if v6 == "dhcp":
            lines.append("      - type: dhcp6")
        elif v6 == "auto":
            lines.append("      - type: ipv6_slaac")
        elif v6:
            lines += ["      - type: static6", f"        address: '{v6}'"]
            if ip.get("gw6"):
                lines.append(f"        gateway: '{ip['gw6']}'")
    nameservers = str(options.get("nameserver") or "").split()
    searchdomains = str(options.get("searchdomain") or "").split()
    if nameservers or searchdomains:
        lines.append("    - type: nameserver")
        if nameservers:
            lines += ["      address:", *(f"      - '{server}'" for server in nameservers)]
        if searchdomains:
            lines += ["      search:", *(f"      - '{domain}'" for domain in searchdomains)]
    return "\n".join(lines) + "\n"


def _cicustom(current: str, network: str | None) -> str | None:
    """``current`` with its ``network=`` part replaced by ``network`` (dropped when None); None when empty."""
    parts = [part for part in current.split(",") if part and not part.startswith("network=")]
    if network:
        parts.append(f"network={network}")
    return ",".join(parts) or None


def guest_network_sync(*, driver: ProxmoxDriver, server: Instance) -> bool:
    """Make the VM's ``cicustom network=`` snippet match its cards and extra addresses; True if it changed.

    Idempotent (the file is rebuilt from the VM's configuration and the database each time). The caller
    regenerates the cloud-init drive (``vm_cloudinit_regenerate``) after it. A server without a VM, or
    a cluster without a snippets storage, has nothing to write (False).
    """
    cluster = server.cluster
    if server.vmid is None or cluster is None:
        return False
    extra = guest_extra_addresses(server)
    options = dict(driver.config(server.node_name, server.vmid).options)
    current = str(options.get("cicustom") or "")
    name = guest_network_snippet_name(server)
    if extra:
        if not cluster.has_snippets:
            logger.info("server %s: no snippets storage, extra addresses %s not in cloud-init", server.pk, extra)
            return False
        try:
            volume = snippet_write(cluster=cluster, filename=name, content=guest_network_config(options, extra))
        except OSError as exc:
            raise GuestNetworkUnwritable(f"server {server.pk}: network snippet not written: {exc}") from exc
        wanted = _cicustom(current, volume)
    else:
        wanted = _cicustom(current, None)
    changed = wanted != (current or None)
    if changed:
        driver.vm_cicustom_set(server.node_name, server.vmid, wanted)
    if not extra and cluster.has_snippets:
        try:
            snippet_delete(cluster=cluster, filename=name)
        except OSError as exc:  # a stale file is harmless: PVE no longer reads it
            logger.warning("server %s: network snippet not removed: %s", server.pk, exc)
    return changed or bool(extra)
