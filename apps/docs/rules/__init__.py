"""Docs rules: pure functions, no database (docs/dev/style.md#app-shape).

* ``rendering``: a page's front matter, its Markdown rendered to sanitised HTML with a table of contents,
  and the code-highlighting stylesheet.
"""

from apps.docs.rules.rendering import (
    DocsPageError,
    FrontMatter,
    RenderedBody,
    TocEntry,
    html_to_text,
    pygments_css,
    render_markdown,
    sanitise,
    split_front_matter,
)

__all__ = [
    "DocsPageError",
    "FrontMatter",
    "RenderedBody",
    "TocEntry",
    "html_to_text",
    "pygments_css",
    "render_markdown",
    "sanitise",
    "split_front_matter",
]
