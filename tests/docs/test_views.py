"""The docs pages over HTTP: index, every shipped page, 404s, search."""

from __future__ import annotations

import re

import pytest

from apps.docs import selectors
from apps.docs.rules.rendering import split_front_matter

SHIPPED = sorted(p.stem for p in selectors.CONTENT_DIR.glob("*.md"))

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    from apps.catalogue.services import catalogue_load_seed

    catalogue_load_seed(actor=None)


def test_index_lists_every_section_and_page(client):
    response = client.get("/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    for section in selectors.section_list():
        assert f"<h2>{section.title}</h2>" in html  # in the navigation
        for source in section.pages:
            assert f'href="/docs/{source.slug}/"' in html


def test_navigation_lists_sections_in_reading_order(client):
    html = client.get("/docs/getting-started/").content.decode()
    nav = html[html.index('id="docs-nav"') :]
    positions = [nav.index(f"<h2>{s.title}</h2>") for s in selectors.section_list()]
    assert positions == sorted(positions)
    assert 'href="/docs/getting-started/" aria-current="page"' in nav


@pytest.mark.parametrize("slug", SHIPPED)
def test_every_shipped_page_renders(client, catalogue, slug, django_user_model):
    path = selectors.CONTENT_DIR / f"{slug}.md"
    meta, _ = split_front_matter(path.read_text(encoding="utf-8"), default_title=slug)
    assert meta.title and meta.section and meta.summary, f"{slug}.md needs title, section and summary"
    if meta.audience == "staff":  # operator pages: staff only (test_operator_docs.py)
        client.force_login(django_user_model.objects.create_user(email="ops@vmcloud.test", is_staff=True))
    response = client.get(f"/docs/{slug}/")
    assert response.status_code == 200
    assert meta.title in response.content.decode()


def test_a_page_has_heading_anchors_and_a_table_of_contents(client):
    html = client.get("/docs/api-overview/").content.decode()
    assert '<h2 id="pagination">' in html
    assert 'href="#pagination"' in html
    toc = html[html.index('id="toc"') :]
    assert '<a href="#errors">Errors</a>' in toc


def test_products_page_includes_the_generated_catalogue(client, catalogue):
    html = client.get("/docs/products-and-pricing/").content.decode()
    assert "How billing works" in html
    for code in ["VPS-NANO", "GPU-SUPERCOMPUTE", "CDN-GLOBAL", "STORAGE-DEDICATED"]:
        assert code in html
    assert "<table>" in html
    assert "generated:" not in html


def test_unknown_page_is_a_404(client):
    response = client.get("/docs/no-such-page/")
    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]


def test_pages_load_the_highlighting_stylesheet(client):
    html = client.get("/docs/getting-started/").content.decode()
    assert "/static/css/pygments.css" in html
    assert '<div class="codehilite">' in html


def test_links_between_docs_pages_point_to_existing_pages():
    slugs = set(SHIPPED)
    for slug in SHIPPED:
        text = (selectors.CONTENT_DIR / f"{slug}.md").read_text(encoding="utf-8")
        for target in re.findall(r"\]\(/docs/([a-z0-9-]+)/", text):
            assert target in slugs, f"{slug}.md links to /docs/{target}/, which does not exist"
