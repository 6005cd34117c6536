"""Hostnames (RFC 1123 §2.1): what a server's name and a managed service's domain may be.

Labels of 1 to 63 letters, digits and hyphens, not starting or ending with a
hyphen, 253 characters in all. A server's name is one lower-case label: it is
also the Proxmox VM name and the guest's hostname (cloud-init writes it to
/etc/hostname). A managed service's name may be a domain.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

HOSTNAME_MAX = 253
LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)


def hostname_problems(name: str, *, single_label: bool = False) -> list[str]:
    """Messages saying what is wrong with ``name`` (empty when it is a valid hostname).

    ``single_label``: a server's name, one lower-case label.
    """
    if not name:
        return [_("Enter a hostname.")]
    if single_label:
        if LABEL_RE.match(name) and name == name.lower():
            return []
        return [
            _("Use 1 to 63 lower-case letters, digits and hyphens, not starting or ending with a hyphen (RFC 1123).")
        ]
    if len(name) > HOSTNAME_MAX:
        return [_("A hostname has at most 253 characters.")]
    if not all(LABEL_RE.match(label) for label in name.split(".")):
        return [
            _(
                "Use letters, digits and hyphens, in labels of 1 to 63 characters separated by dots, "
                "not starting or ending with a hyphen (RFC 1123)."
            )
        ]
    return []
