"""Reads of the docs, one module per topic, the public names re-exported here (docs/dev/style.md#app-shape):

* ``pages``: discover the pages in content/, list them by section, render one (cached by file mtime),
  customer pages for everyone and operator pages for staff only;
* ``generated``: the generated sections a page includes by a marker line (they read the database);
* ``search``: server-side search over titles, headings, summaries and text, with highlighted snippets.
"""

from apps.docs.selectors.generated import GENERATORS, expand, markers_in
from apps.docs.selectors.pages import (
    CONTENT_DIR,
    RESERVED_SLUGS,
    SECTION_ORDER,
    SLUG_RE,
    Page,
    PageSource,
    Section,
    cache_clear,
    page_get,
    page_list,
    page_render,
    page_source_get,
    section_list,
)
from apps.docs.selectors.search import MAX_QUERY_LENGTH, QueryTooLong, SearchResult, docs_search, query_terms

__all__ = [
    "CONTENT_DIR",
    "GENERATORS",
    "MAX_QUERY_LENGTH",
    "RESERVED_SLUGS",
    "SECTION_ORDER",
    "SLUG_RE",
    "Page",
    "PageSource",
    "QueryTooLong",
    "SearchResult",
    "Section",
    "cache_clear",
    "docs_search",
    "expand",
    "markers_in",
    "page_get",
    "page_list",
    "page_render",
    "page_source_get",
    "query_terms",
    "section_list",
]
