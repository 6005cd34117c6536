"""What the apps around a server add to it in the API: its volumes, private networks, firewalls, floating IPs.

Instances sits below those apps and never imports them. Each registers a
provider in its ``AppConfig.ready()`` (``server_extra_register``): given the
public ids of a page of servers, it answers each server's value in ONE query,
so a list of servers costs the same number of queries whatever its length
(``benchmarks/instance_list_bench.py``). The fields are declared once, with
their schema, by ``apps.instances.api.serializers.InstanceOutputSerializer``;
a field whose app is not installed is an empty list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

# field name -> provider(public ids as strings) -> {public id as string: value}
Provider = Callable[[Sequence[str]], Mapping[str, list[Any]]]

SERVER_EXTRA_FIELDS = ("volumes", "private_networks", "firewalls", "floating_ips")
_PROVIDERS: dict[str, Provider] = {}


def server_extra_register(*, field: str, provider: Provider) -> None:
    """Let ``provider`` answer ``field`` of every server (one of ``SERVER_EXTRA_FIELDS``)."""
    if field not in SERVER_EXTRA_FIELDS:
        raise ValueError(f"unknown server field {field!r}: declare it in SERVER_EXTRA_FIELDS and the serializer")
    _PROVIDERS[field] = provider


def server_extras(public_ids: Iterable[Any]) -> dict[str, Mapping[str, list[Any]]]:
    """Each registered field's values for these servers: {field: {public id: value}} (one query per field)."""
    ids = [str(public_id) for public_id in public_ids]
    if not ids:
        return {field: {} for field in SERVER_EXTRA_FIELDS}
    found: dict[str, Mapping[str, list[Any]]] = {field: {} for field in SERVER_EXTRA_FIELDS}
    for field, provider in _PROVIDERS.items():
        found[field] = provider(ids)
    return found


def server_extras_add(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add the extra fields to API representations of servers (dicts with their ``id``), in place."""
    extras = server_extras(item["id"] for item in items)
    for item in items:
        for field in SERVER_EXTRA_FIELDS:
            item[field] = list(extras[field].get(str(item["id"]), []))
    return items
