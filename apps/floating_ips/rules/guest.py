"""What to run in a guest to use a floating IP (pure text, no database), shown on the portal and in the docs.

Like Hetzner's floating IPs, the address is added to the guest's public
interface next to its own address, as a /32 with no gateway of its own: the
router sends the address to the server, the guest answers from it. ``eth0`` is
the name cloud-init gives the first card of a platform server (PVE's
cloud-init network configuration names the cards ``eth0``, ``eth1`` …; qm(1)
"Cloud-Init Support").
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

INTERFACE = "eth0"


@dataclass(frozen=True)
class GuestSnippet:
    key: str
    title: str
    intro: str
    code: str


def guest_snippets(address: str, *, interface: str = INTERFACE) -> list[GuestSnippet]:
    """Per-OS configuration of ``address`` on ``interface``: at once (until reboot) and persistent."""
    return [
        GuestSnippet(
            key="now",
            title=str(_("Any Linux, at once (lost at reboot)")),
            intro=str(_("Adds the address to the running system; use one of the persistent forms below too.")),
            code=f"sudo ip addr add {address}/32 dev {interface}",
        ),
        GuestSnippet(
            key="netplan",
            title=str(_("Ubuntu, Debian 13 (netplan)")),
            intro=str(_("Write this file, then apply it. It is kept across reboots.")),
            code=(
                f"sudo tee /etc/netplan/60-floating-ip.yaml <<'EOF'\n"
                f"network:\n"
                f"  version: 2\n"
                f"  ethernets:\n"
                f"    {interface}:\n"
                f"      addresses:\n"
                f"        - {address}/32\n"
                f"EOF\n"
                f"sudo chmod 600 /etc/netplan/60-floating-ip.yaml\n"
                f"sudo netplan apply"
            ),
        ),
        GuestSnippet(
            key="ifupdown",
            title=str(_("Debian 12 and older (ifupdown)")),
            intro=str(_("Add an alias of the public interface, then bring it up.")),
            code=(
                f"sudo tee /etc/network/interfaces.d/60-floating-ip <<'EOF'\n"
                f"auto {interface}:1\n"
                f"iface {interface}:1 inet static\n"
                f"    address {address}/32\n"
                f"EOF\n"
                f"sudo ifup {interface}:1"
            ),
        ),
        GuestSnippet(
            key="nmcli",
            title=str(_("Rocky, AlmaLinux, RHEL, CentOS Stream, Fedora (NetworkManager)")),
            intro=str(_("Add the address to the connection of the public interface and re-activate it.")),
            code=(
                f"CON=$(nmcli -g GENERAL.CONNECTION device show {interface})\n"
                f'sudo nmcli connection modify "$CON" +ipv4.addresses {address}/32\n'
                f'sudo nmcli connection up "$CON"'
            ),
        ),
        GuestSnippet(
            key="windows",
            title=str(_("Windows Server (PowerShell as administrator)")),
            intro=str(_("Adds the address to the public adapter; it is kept across reboots.")),
            code=(
                "New-NetIPAddress -InterfaceAlias (Get-NetAdapter | Where-Object Status -eq 'Up' | "
                f"Select-Object -First 1).Name -IPAddress {address} -PrefixLength 32 -SkipAsSource $true"
            ),
        ),
    ]
