"""Reads of the docs pages: discover them in content/, render them (cached by file mtime).

Pages are Markdown files ``content/<slug>.md`` with front matter (title,
section, order, summary); files are discovered at each call, so a page added
by another app's change shows up without a restart. Customer pages are public;
operator pages (front matter ``audience: staff``, the "Staff operations"
section: adding a cluster, the console proxy, the simulator, reconciliation)
exist only for staff: every read takes ``staff`` and, without it, such a page
is not listed, not searched and not found (404).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from apps.docs.rules.rendering import (
    DocsPageError,
    FrontMatter,
    RenderedBody,
    TocEntry,
    render_markdown,
    split_front_matter,
)
from apps.docs.selectors import generated

logger = logging.getLogger(__name__)

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Slugs the docs URLs already use.
RESERVED_SLUGS = frozenset({"search"})

# Sections in reading order; sections not listed follow, by their first page's order.
SECTION_ORDER = (
    "Getting started",
    "Products and pricing",
    "Servers",
    "GPU cloud",
    "Networking",
    "Storage",
    "Managed services",
    "Teams and access",
    "Security",
    "Billing",
    "API",
    "Staff operations",
)


@dataclass(frozen=True)
class PageSource:
    slug: str
    path: Path
    mtime_ns: int
    meta: FrontMatter
    body: str

    @property
    def title(self) -> str:
        return self.meta.title

    @property
    def section(self) -> str:
        return self.meta.section

    @property
    def summary(self) -> str:
        return self.meta.summary

    @property
    def is_staff_only(self) -> bool:
        return self.meta.audience == "staff"

    @property
    def is_generated(self) -> bool:
        return bool(generated.markers_in(self.body))


@dataclass(frozen=True)
class Page:
    source: PageSource
    body: RenderedBody

    @property
    def slug(self) -> str:
        return self.source.slug

    @property
    def title(self) -> str:
        return self.source.title

    @property
    def section(self) -> str:
        return self.source.section

    @property
    def summary(self) -> str:
        return self.source.summary

    @property
    def html(self) -> str:
        return self.body.html

    @property
    def toc(self) -> tuple[TocEntry, ...]:
        """Second- and third-level headings: the page's own table of contents."""
        return tuple(e for e in self.body.toc if e.level in (2, 3))


@dataclass(frozen=True)
class Section:
    title: str
    pages: tuple[PageSource, ...]


# In-process caches keyed by (path, mtime): an edited file is re-read and re-rendered.
_lock = threading.Lock()
_source_cache: dict[Path, PageSource] = {}
_render_cache: dict[tuple[Path, int], Page] = {}


def _load_source(path: Path) -> PageSource:
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError as exc:
        raise DocsPageError(f"{path.name}: {exc}") from exc
    cached = _source_cache.get(path)
    if cached is not None and cached.mtime_ns == mtime_ns:
        return cached
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DocsPageError(f"{path.name}: {exc}") from exc
    try:
        meta, body = split_front_matter(text, default_title=path.stem.replace("-", " ").capitalize())
    except DocsPageError as exc:
        raise DocsPageError(f"{path.name}: {exc}") from exc
    source = PageSource(slug=path.stem, path=path, mtime_ns=mtime_ns, meta=meta, body=body)
    with _lock:
        _source_cache[path] = source
    return source


def _candidate_paths(content_dir: Path) -> list[Path]:
    if not content_dir.is_dir():
        return []
    return sorted(
        p for p in content_dir.glob("*.md") if SLUG_RE.match(p.stem) and p.stem not in RESERVED_SLUGS and p.is_file()
    )


def _section_key(section: str, first_order: int) -> tuple[int, int, str]:
    try:
        return (SECTION_ORDER.index(section), 0, section)
    except ValueError:
        return (len(SECTION_ORDER), first_order, section.lower())


def page_list(*, content_dir: Path | None = None, staff: bool = False) -> list[PageSource]:
    """Every usable page the reader may see (operator pages: staff only), in reading order (section, then
    order, then title). A broken file is logged and skipped."""
    sources: list[PageSource] = []
    for path in _candidate_paths(content_dir or CONTENT_DIR):
        try:
            source = _load_source(path)
        except DocsPageError:
            logger.exception("Skipping docs page %s", path.name)
            continue
        if staff or not source.is_staff_only:
            sources.append(source)
    first_order: dict[str, int] = {}
    for s in sources:
        first_order[s.section] = min(first_order.get(s.section, s.meta.order), s.meta.order)
    return sorted(
        sources,
        key=lambda s: (*_section_key(s.section, first_order[s.section]), s.meta.order, s.title.lower()),
    )


def section_list(*, pages: list[PageSource] | None = None, staff: bool = False) -> list[Section]:
    """Pages grouped by section for the navigation, keeping the reading order."""
    grouped: dict[str, list[PageSource]] = {}
    for source in pages if pages is not None else page_list(staff=staff):
        grouped.setdefault(source.section, []).append(source)
    return [Section(title=title, pages=tuple(items)) for title, items in grouped.items()]


def page_source_get(*, slug: str, content_dir: Path | None = None, staff: bool = False) -> PageSource | None:
    """The page called ``slug``, or None (also for an operator page read by a non-staff reader)."""
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS:
        return None
    # Look the slug up among discovered files, never join it into a path blindly.
    for path in _candidate_paths(content_dir or CONTENT_DIR):
        if path.stem == slug:
            source = _load_source(path)
            return source if staff or not source.is_staff_only else None
    return None


def page_render(*, source: PageSource) -> Page:
    """The page's HTML. Static pages are cached by file mtime; generated ones are rendered per request."""
    if source.is_generated:
        return Page(source=source, body=render_markdown(generated.expand(source.body)))
    key = (source.path, source.mtime_ns)
    cached = _render_cache.get(key)
    if cached is not None:
        return cached
    page = Page(source=source, body=render_markdown(source.body))
    with _lock:
        # Drop stale renders of the same file.
        for old in [k for k in _render_cache if k[0] == source.path]:
            del _render_cache[old]
        _render_cache[key] = page
    return page


def page_get(*, slug: str, content_dir: Path | None = None, staff: bool = False) -> Page | None:
    source = page_source_get(slug=slug, content_dir=content_dir, staff=staff)
    return page_render(source=source) if source is not None else None


def cache_clear() -> None:
    with _lock:
        _source_cache.clear()
        _render_cache.clear()
