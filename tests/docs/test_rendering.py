"""Markdown rendering of docs pages: front matter, anchors, code, tables, admonitions, sanitising."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from apps.docs.rules.rendering import DocsPageError, pygments_css, render_markdown, split_front_matter


def test_front_matter_is_read_and_removed_from_the_body():
    meta, body = split_front_matter(
        "---\ntitle: Roles\nsection: Teams and access\norder: 30\nsummary: Who can do what.\n---\n\nHello\n",
        default_title="x",
    )
    assert (meta.title, meta.section, meta.order, meta.summary) == ("Roles", "Teams and access", 30, "Who can do what.")
    assert body.strip() == "Hello"


def test_a_page_without_front_matter_gets_defaults():
    meta, body = split_front_matter("# Hi\n", default_title="My page")
    assert meta.title == "My page"
    assert meta.section == "General"
    assert body == "# Hi\n"


@pytest.mark.parametrize(
    "front",
    ["---\ntitle: [unclosed\n---\n", "---\n- a list\n---\n", "---\ntitle: A\norder: soon\n---\n"],
)
def test_broken_front_matter_is_an_error(front):
    with pytest.raises(DocsPageError):
        split_front_matter(front + "body", default_title="x")


def test_headings_get_anchors_with_permalinks_and_a_table_of_contents():
    body = render_markdown("## Create a token\n\ntext\n\n### Scopes & roles\n\nmore\n")
    assert '<h2 id="create-a-token">' in body.html
    assert 'class="headerlink" href="#create-a-token"' in body.html
    assert [(e.level, e.id, e.name) for e in body.toc] == [
        (2, "create-a-token", "Create a token"),
        (3, "scopes-roles", "Scopes & roles"),
    ]
    assert body.has_h1 is False


def test_a_heading_cannot_take_an_id_the_layout_uses():
    body = render_markdown("## Main\n")
    assert 'id="main"' not in body.html
    assert body.toc[0].id == "main-section"


def test_fenced_code_is_highlighted_with_pygments_classes():
    body = render_markdown('```python\nprint("hi")\n```\n')
    assert '<div class="codehilite">' in body.html
    assert '<span class="nb">print</span>' in body.html


def test_tables_keep_their_alignment_and_nothing_else_may_style():
    body = render_markdown('| a | b |\n|:--|--:|\n| 1 | 2 |\n\n<p style="position:fixed">x</p>\n')
    assert '<th style="text-align:left">a</th>' in body.html
    assert '<td style="text-align:right">2</td>' in body.html
    assert "position" not in body.html


def test_admonitions_render_as_styled_blocks():
    body = render_markdown('!!! warning "Careful"\n    This deletes data.\n')
    assert '<div class="admonition warning">' in body.html
    assert '<p class="admonition-title">Careful</p>' in body.html


def test_scripts_and_event_handlers_are_stripped():
    body = render_markdown(
        "Hello\n\n<script>alert('x')</script>\n\n"
        '<img src="x.png" onerror="alert(1)">\n\n'
        "[click](javascript:alert(1))\n\n"
        '<a href="/ok" onclick="steal()">ok</a>\n\n'
        "<iframe src='https://evil.example'></iframe>\n"
    )
    html = body.html.lower()
    assert "<script" not in html
    assert "alert('x')" not in html
    assert "onerror" not in html
    assert "onclick" not in html
    assert "javascript:" not in html
    assert "<iframe" not in html
    assert '<a href="/ok"' in body.html


def test_plain_text_for_search_has_no_markup_or_permalink_marks():
    body = render_markdown("## Tokens\n\nUse `vmc_pat_` tokens &amp; *scopes*.\n")
    assert body.text == "Tokens Use vmc_pat_ tokens & scopes."


def test_committed_pygments_css_matches_the_generator():
    committed = (Path(settings.BASE_DIR) / "static" / "css" / "pygments.css").read_text(encoding="utf-8")
    assert committed == pygments_css(), "run: manage.py docs_pygments_css"


def test_pygments_css_styles_both_themes_and_leaves_other_pre_elements_alone():
    css = pygments_css()
    assert ".codehilite .k {" in css
    assert ':root[data-theme="dark"] .codehilite .k {' in css
    assert "@media (prefers-color-scheme: dark)" in css
    assert not any(line.startswith("pre ") for line in css.splitlines())
