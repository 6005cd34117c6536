"""Builders for the tenant-isolation walk (tests/isolation.py merges them): ``policy_id`` of an organisation."""

from __future__ import annotations

from typing import Any

from apps.teams.models import Organisation


def _policy(org: Organisation, personas: Any) -> Any:
    """An alert policy row of the organisation on servers by label (no server or Proxmox needed)."""
    from apps.alerts.models import AlertPolicy

    existing = AlertPolicy.objects.filter(organisation=org).first()
    if existing is not None:
        return existing.public_id
    return AlertPolicy.objects.create(
        organisation=org,
        project=org.projects.get(is_default=True),
        name=f"alert-{org.slug}",
        metric="cpu",
        comparison="gt",
        threshold=80,
        duration_minutes=5,
        label_selector="env=prod",
    ).public_id


OBJECT_BUILDERS = {"policy_id": _policy}
WRITE_BODIES = {
    "api:alert-policy-list": {
        "organisation_id": "{org_id}",
        "name": "iso",
        "metric": "cpu",
        "comparison": "gt",
        "threshold": "80",
        "label_selector": "env=prod",
    },
}
