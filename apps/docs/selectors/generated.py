"""Generated sections of docs pages.

A page includes generated Markdown with a marker line such as
``<!-- generated: catalogue-pricing -->``; the marker is replaced, at each
request, by the generator's output (it reads the database, so it is never
cached with the page's file).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

logger = logging.getLogger(__name__)

MARKER_RE = re.compile(r"^[ \t]*<!--[ \t]*generated:[ \t]*([a-z0-9][a-z0-9-]*)[ \t]*-->[ \t]*$", re.MULTILINE)


def _catalogue_pricing() -> str:
    # Imported here, not at module level: the docs app must load (and render its
    # other pages) without touching the catalogue until a page asks for it.
    from apps.catalogue.selectors import pricing_markdown

    return pricing_markdown()


GENERATORS: dict[str, Callable[[], str]] = {
    "catalogue-pricing": _catalogue_pricing,
}


def markers_in(body: str) -> list[str]:
    return MARKER_RE.findall(body)


def expand(body: str) -> str:
    """Replace each marker line by its generator's Markdown; an unknown marker is dropped and logged."""

    def _replace(match: re.Match[str]) -> str:
        name = match.group(1)
        generator = GENERATORS.get(name)
        if generator is None:
            logger.warning("Unknown docs generator %r", name)
            return ""
        return "\n" + generator().strip() + "\n"

    return MARKER_RE.sub(_replace, body)
