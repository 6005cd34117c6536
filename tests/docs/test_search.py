"""Docs search: scoring, snippets, and bad queries."""

from __future__ import annotations

import pytest

from apps.docs.selectors import search

pytestmark = pytest.mark.django_db


def test_search_finds_a_page_by_a_word_of_its_body(client):
    response = client.get("/docs/search/", {"q": "idempotency"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/docs/api-overview/#idempotency-keys"' in html
    assert "<mark>" in html


def test_a_title_match_ranks_above_a_body_match():
    results = search.docs_search(query="getting started")
    assert results[0].slug == "getting-started"


def test_every_word_must_match():
    assert search.docs_search(query="pagination xylophone") == []


def test_a_heading_match_links_to_its_anchor():
    result = next(r for r in search.docs_search(query="rate limits") if r.slug == "api-overview")
    assert result.anchor == "rate-limits"
    assert result.heading == "Rate limits"


@pytest.mark.parametrize("query", ["", "   ", "!!!", "--"])
def test_an_empty_query_shows_help_not_results(client, query):
    response = client.get("/docs/search/", {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Type one or more words" in html
    assert 'class="search-results"' not in html


def test_a_missing_query_parameter_is_fine(client):
    assert client.get("/docs/search/").status_code == 200


def test_a_too_long_query_is_refused_politely(client):
    response = client.get("/docs/search/", {"q": "a" * (search.MAX_QUERY_LENGTH + 1)})
    assert response.status_code == 200
    assert "Your search is too long" in response.content.decode()


def test_no_results_says_so(client):
    html = client.get("/docs/search/", {"q": "xylophone"}).content.decode()
    assert "0 pages match" in html
    assert "No results" in html


def test_the_query_is_escaped_in_the_page_and_snippets(client):
    html = client.get("/docs/search/", {"q": "<script>alert(1)</script> token"}).content.decode()
    assert "<script>alert(1)</script>" not in html


def test_highlight_escapes_text_and_marks_terms():
    assert search.highlight("a <b> token", ["token"]) == "a &lt;b&gt; <mark>token</mark>"
