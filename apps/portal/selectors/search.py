"""The console's global search: the current organisation's servers, volumes, networks, services and invoices,
and the documentation pages, matching a few typed characters.

Each kind is read through its own app's selector, scoped to the actor *and* to the
organisation chosen in the switcher (a user in two organisations searches the one
they are looking at), with one query per kind whatever the number of resources.
Invoices are searched only for those who may read the organisation's billing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.urls import reverse

from apps.billing import selectors as billing_selectors
from apps.core.actors import Actor, actor_is_back_office_staff
from apps.docs import selectors as docs_selectors
from apps.instances import selectors as instance_selectors
from apps.managed import selectors as managed_selectors
from apps.networks import selectors as network_selectors
from apps.teams.access import actor_has_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.volumes import selectors as volume_selectors

PER_KIND = 8
ADDRESS_CHARS = re.compile(r"[0-9a-fA-F]*[.:][0-9a-fA-F.:]*|[0-9]+")
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
QUERY_MAX = 100  # characters looked at: a name is at most 63, an invoice number 32


@dataclass(frozen=True)
class SearchHit:
    """One result: its kind (``server``, ``volume``, ``network``, ``service``, ``invoice``, ``doc``), what to
    show and where it opens."""

    kind: str
    title: str
    detail: str
    url: str


@dataclass
class SearchResults:
    query: str
    hits: dict[str, list[SearchHit]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(len(found) for found in self.hits.values())

    def __bool__(self) -> bool:
        return self.total > 0


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _named(text: str) -> Q:
    """A name containing the text, or the object's public id when the text is one (pasted from the API)."""
    wanted = Q(name__icontains=text)
    found_id = _as_uuid(text)
    return wanted | Q(public_id=found_id) if found_id else wanted


def search(*, actor: Actor, organisation: Organisation | None, query: str) -> SearchResults:
    """What matches ``query`` in ``organisation`` (as ``actor`` may see it) and in the docs, ``PER_KIND`` at most
    per kind; an empty query finds nothing."""
    # Control characters (a NUL byte PostgreSQL refuses in text) match no name: dropped, never an error.
    text = CONTROL_CHARS.sub("", query or "").strip()[:QUERY_MAX]
    results = SearchResults(query=text)
    if not text:
        return results
    hits: dict[str, list[SearchHit]] = {}
    if organisation is not None and not organisation.is_suspended:
        mine = Q(organisation=organisation)
        server_match = _named(text)
        if ADDRESS_CHARS.fullmatch(text):  # part of an address: compared as text (PostgreSQL's HOST())
            server_match |= Q(ipv4__startswith=text) | Q(ipv6__istartswith=text)
        hits["server"] = [
            SearchHit(
                "server",
                i.name,
                " · ".join(filter(None, [i.ipv4 or "", i.datacentre.code, i.get_status_display()])),
                reverse("instances:server_detail", args=[i.public_id]),
            )
            for i in instance_selectors.instance_list(actor=actor).filter(mine & server_match)[:PER_KIND]
        ]
        hits["volume"] = [
            SearchHit(
                "volume",
                v.name,
                f"{v.size_gb} GB · {v.datacentre.code}",
                reverse("volumes:volume_detail", args=[v.public_id]),
            )
            for v in volume_selectors.volume_list(actor=actor, where=mine & _named(text))[:PER_KIND]
        ]
        hits["network"] = [
            SearchHit("network", n.name, n.datacentre.code, reverse("networks:network_detail", args=[n.public_id]))
            for n in network_selectors.network_list(actor=actor, where=mine & _named(text)).prefetch_related(None)[
                :PER_KIND
            ]
        ]
        hits["service"] = [
            SearchHit(
                "service",
                s.name,
                f"{s.offer.name} · {s.get_state_display()}",
                reverse("managed:service_detail", args=[s.public_id]),
            )
            for s in managed_selectors.service_list(actor=actor, where=mine & _named(text))[:PER_KIND]
        ]
        if actor_has_permission(actor, organisation, Permission.BILLING_READ):
            hits["invoice"] = [
                SearchHit(
                    "invoice",
                    inv.number or "",
                    inv.get_status_display(),
                    reverse("billing:invoices_detail", args=[inv.public_id]),
                )
                for inv in billing_selectors.invoice_list(actor=actor, organisation=organisation.pk).filter(
                    number__icontains=text
                )[:PER_KIND]
            ]
    hits["doc"] = _docs(text, staff=actor_is_back_office_staff(actor))
    results.hits = {kind: found for kind, found in hits.items() if found}
    return results


def _docs(text: str, *, staff: bool) -> list[SearchHit]:
    """Docs pages whose title, summary or text holds every word of the query; title matches first."""
    words = text.lower().split()
    ranked: list[tuple[int, Any]] = []
    for page in docs_selectors.page_list(staff=staff):
        title = page.title.lower()
        haystack = f"{title}\n{page.summary.lower()}\n{page.body.lower()}"
        if all(word in haystack for word in words):
            ranked.append((0 if all(word in title for word in words) else 1, page))
    ranked.sort(key=lambda pair: pair[0])
    return [
        SearchHit("doc", page.title, page.summary, reverse("docs:page", args=[page.slug]))
        for _rank, page in ranked[:PER_KIND]
    ]
