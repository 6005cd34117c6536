"""A server's options as ordered: how many volumes, which family sells their tiers, and the lists of ids.

What the ids name (networks, firewalls, volume tiers) is read by
``apps.orders.selectors.checks.check_options``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from apps.orders.rules.errors import Errors, _add

MAX_ORDER_VOLUMES = 3
STORAGE_FAMILY = "storage"  # apps.volumes: the block storage family, whose offers are the volume tiers


def _ids_clean(raw: Sequence[Any], field: str, errors: Errors) -> list[str]:
    clean: list[str] = []
    for value in raw:
        try:
            text = str(uuid.UUID(str(value)))
        except ValueError:
            _add(errors, field, _("“%(id)s” is not a valid id.") % {"id": str(value)[:80]})
            continue
        if text not in clean:
            clean.append(text)
    return clean
