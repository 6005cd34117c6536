"""Docs pages: the index, one page, and search. Customer pages are public; operator pages are for staff
only (anyone else gets a 404, as for a page that does not exist)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from apps.docs.selectors import page_get, page_list, section_list
from apps.docs.selectors import search as docs_search_module


def _staff(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_staff", False))


def index(request: HttpRequest) -> HttpResponse:
    pages = page_list(staff=_staff(request))
    return render(request, "docs/index.html", {"sections": section_list(pages=pages), "nav_sections": None})


def page(request: HttpRequest, slug: str) -> HttpResponse:
    current = page_get(slug=slug, staff=_staff(request))
    if current is None:
        raise Http404(_("No documentation page called “%(slug)s”.") % {"slug": slug})
    pages = page_list(staff=_staff(request))
    slugs = [p.slug for p in pages]
    position = slugs.index(current.slug) if current.slug in slugs else -1
    previous_page = pages[position - 1] if position > 0 else None
    next_page = pages[position + 1] if 0 <= position < len(pages) - 1 else None
    return render(
        request,
        "docs/page.html",
        {
            "page": current,
            "sections": section_list(pages=pages),
            "previous_page": previous_page,
            "next_page": next_page,
        },
    )


def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    error = ""
    results: list[docs_search_module.SearchResult] = []
    try:
        terms = docs_search_module.query_terms(query)
    except docs_search_module.QueryTooLong:
        terms = []
        error = _("Your search is too long: use at most %(max)d characters.") % {
            "max": docs_search_module.MAX_QUERY_LENGTH
        }
        query = query[: docs_search_module.MAX_QUERY_LENGTH]
    if terms:
        results = docs_search_module.docs_search(query=query, staff=_staff(request))
    return render(
        request,
        "docs/search.html",
        {
            "query": query.strip(),
            "searched": bool(terms),
            "results": results,
            "error": error,
            "sections": section_list(staff=_staff(request)),
        },
    )
