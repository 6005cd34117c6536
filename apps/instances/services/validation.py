"""Checks of what a server is created with that need the database: user-data delivery, the organisation's SSH keys.

The pure rules (hostname, user-data formats, SSH key material) are in
``apps.instances.rules``; ``apps.orders`` calls these same functions when it
checks an order, so an order and the server it creates are checked alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from apps.catalogue.models import Datacentre
from apps.core.errors import ValidationFailed
from apps.core.labels import labels_validate
from apps.infrastructure import choices as infra_choices
from apps.infrastructure.models import Cluster
from apps.instances.models import SshKey
from apps.instances.rules import hostname_problems, ssh_key_parse, user_data_problems
from apps.teams.models import Organisation

USER_DATA_UNAVAILABLE = "user_data_unavailable"


def instance_name_clean(name: str) -> str:
    """A server's name as stored (stripped, lower case); ``ValidationFailed`` (``invalid_name``) if not a hostname."""
    name = (name or "").strip().lower()
    problems = hostname_problems(name, single_label=True)
    if problems:
        raise ValidationFailed(problems[0], code="invalid_name", fields={"name": problems})
    return name


def instance_labels_clean(labels: Mapping[str, Any] | None) -> dict[str, str]:
    """Kubernetes-style labels (``apps.core.labels``; docs: apps/docs/content/api-overview.md)."""
    return labels_validate(labels)


def user_data_available(*, datacentre: Datacentre) -> bool:
    """Whether user-data can be delivered wherever placement may put a VM in ``datacentre``.

    Placement may choose any active cluster of the datacentre, so every one of
    them needs a snippets storage (``Cluster.snippets_storage``/``snippets_path``).
    """
    clusters = Cluster.objects.filter(datacentre=datacentre, status=infra_choices.ClusterStatus.ACTIVE)
    return clusters.exists() and not clusters.filter(Q(snippets_storage="") | Q(snippets_path="")).exists()


def user_data_check(user_data: str, *, datacentre: Datacentre) -> str:
    """Check cloud-init user-data for a server in ``datacentre``; returns it unchanged ("" when empty).

    The rules are ``rules.user_data_problems`` (400 ``invalid_user_data``). The
    platform delivers it as a vendor-data snippet (``provisioning``, docs
    ``instances.md`` "User-data"), so the datacentre needs a snippets storage on
    every cluster (``user_data_available``): otherwise 400
    ``user_data_unavailable``, never an order accepted and its user-data dropped.
    Raises ``ValidationFailed`` with a ``user_data`` field message.
    """
    user_data = user_data or ""
    if not user_data.strip():
        return ""
    problems = user_data_problems(user_data)
    if problems:
        raise ValidationFailed(problems[0], code="invalid_user_data", fields={"user_data": problems})
    if not user_data_available(datacentre=datacentre):
        message = _("User-data is not available in this datacentre yet: leave it empty or choose another datacentre.")
        raise ValidationFailed(message, code=USER_DATA_UNAVAILABLE, fields={"user_data": [message]})
    return user_data


def ssh_keys_of(*, organisation: Organisation, ssh_key_ids: Sequence[str]) -> list[SshKey]:
    """The organisation's keys among ``ssh_key_ids`` (public ids), oldest first; unknown or malformed ids left out."""
    try:
        return list(SshKey.objects.filter(organisation=organisation, public_id__in=list(ssh_key_ids)).order_by("id"))
    except ValidationError:  # a malformed UUID (services may be called without the API's parsing)
        return []


def ssh_key_ids_problems(*, organisation: Organisation, ssh_key_ids: Sequence[str]) -> list[str]:
    """Messages naming each id in ``ssh_key_ids`` that is not one of the organisation's keys (empty when all are)."""
    found = {str(key.public_id) for key in ssh_keys_of(organisation=organisation, ssh_key_ids=ssh_key_ids)}
    return [_("Unknown SSH key: %(id)s.") % {"id": key} for key in ssh_key_ids if key not in found]


def ssh_keys_resolve(*, organisation: Organisation, ssh_keys: Sequence[SshKey | str]) -> list[str]:
    """The public key lines to install: the organisation's ``SshKey`` rows, or key texts checked by the rules."""
    out: list[str] = []
    for key in ssh_keys:
        if isinstance(key, SshKey):
            if key.organisation_id != organisation.pk:
                raise ValidationFailed(
                    _("Unknown SSH key."), code="invalid_ssh_key", fields={"ssh_keys": [_("Unknown SSH key.")]}
                )
            out.append(key.public_key)
        else:
            out.append(ssh_key_parse(key).normalised)
    return out
