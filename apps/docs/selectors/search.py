"""Server-side search over the docs: titles, headings, summaries and text.

Scoring is deliberately simple (title > heading > summary > body): every word
of the query must appear somewhere in the page; each word scores by where it
was found. Results carry a snippet with the words marked, escaped for HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from apps.docs.selectors.pages import PageSource, page_list, page_render

MAX_QUERY_LENGTH = 200
MAX_TERMS = 10
SNIPPET_BEFORE = 70
SNIPPET_AFTER = 170

WEIGHT_TITLE = 10
WEIGHT_HEADING = 5
WEIGHT_SUMMARY = 3
WEIGHT_BODY = 1

_TERM_RE = re.compile(r"[\w][\w.\-/]*", re.UNICODE)


class QueryTooLong(ValueError):
    pass


@dataclass(frozen=True)
class SearchResult:
    source: PageSource
    score: float
    anchor: str
    heading: str
    snippet: SafeString

    @property
    def slug(self) -> str:
        return self.source.slug

    @property
    def title(self) -> str:
        return self.source.title

    @property
    def section(self) -> str:
        return self.source.section


def query_terms(query: str) -> list[str]:
    """Lower-cased words of the query, without duplicates; raises QueryTooLong past MAX_QUERY_LENGTH."""
    query = query.strip()
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryTooLong(query)
    terms: list[str] = []
    for raw in _TERM_RE.findall(query.lower()):
        term = raw.strip(".-/")
        if term and term not in terms:
            terms.append(term)
    return terms[:MAX_TERMS]


def highlight(text: str, terms: list[str]) -> SafeString:
    """Escape ``text`` and wrap each occurrence of a term in <mark>."""
    if not terms:
        return SafeString(escape(text))
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    out.append(escape(text[last:]))
    # Every piece of page text above went through escape(); only our <mark> tags are raw.
    return mark_safe("".join(out))  # noqa: S308


def _snippet(text: str, terms: list[str], fallback: str) -> SafeString:
    lowered = text.lower()
    positions = [p for p in (lowered.find(t) for t in terms) if p >= 0]
    if not positions:
        return highlight(fallback or text[: SNIPPET_AFTER + SNIPPET_BEFORE], terms)
    pos = min(positions)
    start = max(0, pos - SNIPPET_BEFORE)
    end = min(len(text), pos + SNIPPET_AFTER)
    # Cut on word boundaries so the snippet does not start or end mid-word.
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < pos else start
    if end < len(text):
        space = text.rfind(" ", pos, end)
        end = space if space > pos else end
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    return highlight(f"{prefix}{text[start:end].strip()}{suffix}", terms)


def docs_search(*, query: str, limit: int = 20, staff: bool = False) -> list[SearchResult]:
    """Pages matching every word of ``query`` that the reader may see, best first. An empty query finds nothing."""
    terms = query_terms(query)
    if not terms:
        return []
    results: list[SearchResult] = []
    for source in page_list(staff=staff):
        page = page_render(source=source)
        title = source.title.lower()
        summary = source.summary.lower()
        body = page.body.text.lower()
        headings = [e for e in page.body.toc if e.level > 1]
        score = 0.0
        anchor = ""
        heading_name = ""
        for term in terms:
            found = False
            if term in title:
                score += WEIGHT_TITLE
                found = True
            hit = next((h for h in headings if term in h.name.lower()), None)
            if hit is not None:
                score += WEIGHT_HEADING
                found = True
                if not anchor:
                    anchor, heading_name = hit.id, hit.name
            if term in summary:
                score += WEIGHT_SUMMARY
                found = True
            count = body.count(term)
            if count:
                # Diminishing returns: a word repeated 50 times is not 50 times more relevant.
                score += WEIGHT_BODY + min(count, 10) * 0.1
                found = True
            if not found:
                break
        else:
            if query.strip().lower() in title:
                score += WEIGHT_TITLE  # the whole phrase in the title
            results.append(
                SearchResult(
                    source=source,
                    score=score,
                    anchor=anchor,
                    heading=heading_name,
                    snippet=_snippet(page.body.text, terms, source.summary),
                )
            )
    results.sort(key=lambda r: (-r.score, r.title.lower()))
    return results[:limit]
