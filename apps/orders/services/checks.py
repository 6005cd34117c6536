"""The checks of an order that go through ``apps.instances``' services: cloud-init user-data and SSH key ids.

Each returns field → messages (empty when fine), as the reads of
``apps.orders.selectors.checks`` and the rules of ``apps.orders.rules`` do; they
sit here because a selector never imports a service (``.importlinter``,
"Selectors never import services"). The rules are the servers' own, so an order
and the server it creates are checked alike: ``user_data_check`` (cloud-init
formats, 64 KiB, only where the datacentre can deliver it) and
``ssh_key_ids_problems`` (ids of the organisation's keys).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from apps.catalogue.models import Datacentre, Offer
from apps.core.errors import ValidationFailed
from apps.instances import services as instance_services
from apps.orders.rules.errors import Errors
from apps.orders.rules.offers import is_vm_offer
from apps.teams.models import Organisation


def check_user_data(user_data: str, *, datacentre: Datacentre) -> tuple[Errors, str | None]:
    """Field messages for cloud-init user-data, and the error code (``invalid_user_data``, ``user_data_unavailable``).

    The rules live in ``apps.instances.services.user_data_check`` (formats, 64 KiB,
    YAML of ``#cloud-config``, a snippets storage in the datacentre).
    """
    try:
        instance_services.user_data_check(user_data, datacentre=datacentre)
    except ValidationFailed as exc:
        return {"user_data": exc.fields.get("user_data", [exc.message])}, exc.code
    return {}, None


def check_ssh_keys(*, organisation: Organisation, offer: Offer, ssh_key_ids: Sequence[str]) -> Errors:
    """SSH keys are for servers, and must be the organisation's (``apps.instances.services.ssh_key_ids_problems``)."""
    if not ssh_key_ids:
        return {}
    if not is_vm_offer(offer):
        return {"ssh_keys": [_("This product does not take SSH keys.")]}
    problems = instance_services.ssh_key_ids_problems(organisation=organisation, ssh_key_ids=ssh_key_ids)
    return {"ssh_keys": problems} if problems else {}
