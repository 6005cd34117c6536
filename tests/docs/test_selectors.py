"""Discovering pages in content/, ordering them, caching renders and expanding generated sections."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from apps.docs import selectors
from apps.docs.selectors import generated


@pytest.fixture
def content(tmp_path: Path):
    selectors.cache_clear()

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    yield tmp_path, write
    selectors.cache_clear()


def _page(title: str, section: str, order: int, body: str = "Body.\n") -> str:
    return f"---\ntitle: {title}\nsection: {section}\norder: {order}\nsummary: About {title}.\n---\n{body}"


def test_pages_are_discovered_and_ordered_by_section_then_order(content):
    folder, write = content
    write("roles.md", _page("Roles", "Teams and access", 30))
    write("invite.md", _page("Invite people", "Teams and access", 10))
    write("start.md", _page("Start", "Getting started", 10))
    write("zebra.md", _page("Zebra", "Zoo keeping", 5))
    write("notes.txt", "not a page")
    write("Bad Name.md", _page("Bad", "Getting started", 1))

    pages = selectors.page_list(content_dir=folder)

    assert [p.slug for p in pages] == ["start", "invite", "roles", "zebra"]
    sections = selectors.section_list(pages=pages)
    assert [(s.title, [p.slug for p in s.pages]) for s in sections] == [
        ("Getting started", ["start"]),
        ("Teams and access", ["invite", "roles"]),
        ("Zoo keeping", ["zebra"]),
    ]


def test_a_page_with_broken_front_matter_is_skipped_not_fatal(content, caplog):
    folder, write = content
    write("good.md", _page("Good", "Getting started", 1))
    write("broken.md", "---\ntitle: [oops\n---\nBody\n")
    assert [p.slug for p in selectors.page_list(content_dir=folder)] == ["good"]
    assert "broken.md" in caplog.text


def test_unknown_reserved_or_malformed_slugs_find_nothing(content):
    folder, write = content
    write("search.md", _page("Search", "Getting started", 1))
    for slug in ["missing", "search", "../settings", "UPPER"]:
        assert selectors.page_get(slug=slug, content_dir=folder) is None


def test_a_static_page_is_cached_until_its_file_changes(content):
    folder, write = content
    path = write("page.md", _page("Page", "Getting started", 1, "First version.\n"))
    first = selectors.page_get(slug="page", content_dir=folder)
    assert selectors.page_get(slug="page", content_dir=folder) is first

    path.write_text(_page("Page", "Getting started", 1, "Second version.\n"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = selectors.page_get(slug="page", content_dir=folder)
    assert second is not None and "Second version." in second.html


def test_a_generated_page_is_rendered_again_at_each_request(content, monkeypatch):
    folder, write = content
    calls = []

    def fake_generator() -> str:
        calls.append(1)
        return f"| Offer | Price |\n|---|---:|\n| VPS-NANO | {len(calls)}.00 € |\n"

    monkeypatch.setitem(generated.GENERATORS, "test-prices", fake_generator)
    write("prices.md", _page("Prices", "Products and pricing", 1, "Intro.\n\n<!-- generated: test-prices -->\n"))

    first = selectors.page_get(slug="prices", content_dir=folder)
    second = selectors.page_get(slug="prices", content_dir=folder)

    assert first is not None and second is not None
    assert "<td>VPS-NANO</td>" in first.html
    assert "1.00 €" in first.html and "2.00 €" in second.html
    assert "generated:" not in second.html


def test_an_unknown_generator_marker_is_dropped():
    assert generated.expand("Before\n<!-- generated: no-such-thing -->\nAfter\n") == "Before\n\nAfter\n"


def test_every_marker_in_the_shipped_pages_has_a_generator():
    for path in selectors.CONTENT_DIR.glob("*.md"):
        for name in generated.markers_in(path.read_text(encoding="utf-8")):
            assert name in generated.GENERATORS, f"{path.name} uses unknown generator {name!r}"
