"""Builders for the tenant-isolation walk (tests/isolation.py merges them): ``firewall_id`` of an organisation."""

from __future__ import annotations

from typing import Any

from apps.teams.models import Organisation


def _firewall(org: Organisation, personas: Any) -> Any:
    """A firewall row of the organisation (no Proxmox needed: denials happen before any call)."""
    from apps.firewalls.models import Firewall

    existing = Firewall.objects.filter(organisation=org).exclude(status="deleted").first()
    if existing is not None:
        return existing.public_id
    return Firewall.objects.create(
        organisation=org, project=org.projects.get(is_default=True), name=f"fw-{org.slug}", rules=[]
    ).public_id


OBJECT_BUILDERS = {"firewall_id": _firewall}
WRITE_BODIES = {
    "api:firewall-list": {"organisation_id": "{org_id}", "name": "iso", "rules": []},
    "api:firewall-set-rules": {"rules": []},
    "api:firewall-apply-to-resources": {
        "apply_to": [{"type": "label_selector", "label_selector": {"selector": "a=b"}}]
    },
    "api:firewall-remove-from-resources": {
        "remove_from": [{"type": "label_selector", "label_selector": {"selector": "a=b"}}]
    },
}
