"""Markdown to safe HTML for the docs: front matter, extensions, sanitising, table of contents.

Python-Markdown renders (toc with permalinks, tables, fenced code, codehilite
with Pygments CSS classes, admonitions), then nh3 keeps only the tags and
attributes those extensions produce: a ``<script>`` or an ``onclick`` in a page
never reaches the browser.
Docs: https://python-markdown.github.io/extensions/ and https://nh3.readthedocs.io/
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import markdown
import nh3
import yaml
from markdown.extensions.toc import slugify
from pygments.formatters import HtmlFormatter

CODEHILITE_CLASS = "codehilite"
# Pygments styles for the two themes (see static/css/pygments.css).
PYGMENTS_LIGHT_STYLE = "default"
PYGMENTS_DARK_STYLE = "github-dark"

# Ids the page layout already uses: a heading must not take one of them
# (a "## Main" heading would otherwise steal the skip link's target).
RESERVED_IDS = frozenset(
    {"main", "topbar-menu", "account-menu", "language-select", "live-region", "docs-nav", "docs-search-q", "toc"}
)

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt",
        "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
        "pre", "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
        "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"class", "id", "title", "lang"},
    "div": {"tabindex"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "loading"},
    "ol": {"start"},
    "th": {"style", "colspan", "rowspan", "scope"},
    "td": {"style", "colspan", "rowspan"},
    "abbr": {"title"},
}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
# The tables extension aligns columns with style="text-align: ..."; nothing else may style.
ALLOWED_STYLE_PROPERTIES = frozenset({"text-align"})


class DocsPageError(Exception):
    """A page file cannot be used: unreadable, bad front matter, bad slug."""


@dataclass(frozen=True)
class FrontMatter:
    title: str
    section: str
    order: int
    summary: str
    # "customers" (everyone) or "staff": operator pages only VMCloud's staff see (apps.docs.selectors).
    audience: str = "customers"


@dataclass(frozen=True)
class TocEntry:
    level: int
    id: str
    name: str


@dataclass(frozen=True)
class RenderedBody:
    html: str
    toc: tuple[TocEntry, ...]
    text: str
    has_h1: bool


_FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


AUDIENCES = ("customers", "staff")


def split_front_matter(source: str, *, default_title: str) -> tuple[FrontMatter, str]:
    """Read the YAML block between the first two ``---`` lines; the rest is the Markdown body."""
    match = _FRONT_MATTER_RE.match(source)
    data: Any = {}
    body = source
    if match:
        try:
            data = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            raise DocsPageError(f"front matter is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise DocsPageError("front matter must be a mapping of keys to values")
        body = source[match.end() :]
    try:
        order = int(data.get("order", 1000))
    except (TypeError, ValueError) as exc:
        raise DocsPageError(f"front matter 'order' must be a number, not {data.get('order')!r}") from exc
    meta = FrontMatter(
        title=str(data.get("title") or default_title).strip(),
        section=str(data.get("section") or "General").strip(),
        order=order,
        summary=str(data.get("summary") or "").strip(),
        audience=str(data.get("audience") or "customers").strip(),
    )
    if meta.audience not in AUDIENCES:
        raise DocsPageError(f"front matter 'audience' must be one of {', '.join(AUDIENCES)}, not {meta.audience!r}")
    return meta, body


def _slugify(value: str, separator: str) -> str:
    slug = slugify(value, separator) or "section"
    return f"{slug}{separator}section" if slug in RESERVED_IDS else slug


def _markdown() -> markdown.Markdown:
    # A fresh instance per render: Markdown objects keep state and are not thread-safe.
    return markdown.Markdown(
        extensions=["toc", "tables", "fenced_code", "codehilite", "admonition", "sane_lists", "def_list", "abbr"],
        extension_configs={
            "toc": {
                "permalink": "#",
                "permalink_class": "headerlink",
                "permalink_title": "Link to this section",
                "slugify": _slugify,
                "toc_depth": "1-3",
            },
            "codehilite": {"css_class": CODEHILITE_CLASS, "guess_lang": False, "use_pygments": True},
        },
        output_format="html",
    )


def sanitise(raw_html: str) -> str:
    return nh3.clean(
        raw_html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        filter_style_properties=set(ALLOWED_STYLE_PROPERTIES),
        strip_comments=True,
    )


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (for search): no tags, no permalink marks, single spaces."""
    text = html.unescape(nh3.clean(fragment, tags=set(), attributes={}))
    return re.sub(r"\s+", " ", text).strip()


def _flatten_toc(tokens: list[dict[str, Any]]) -> list[TocEntry]:
    out: list[TocEntry] = []
    for token in tokens:
        # Python-Markdown gives the heading's text HTML-escaped; templates escape again.
        out.append(TocEntry(level=int(token["level"]), id=str(token["id"]), name=html.unescape(str(token["name"]))))
        out.extend(_flatten_toc(token.get("children", [])))
    return out


_PERMALINK_RE = re.compile(r'<a class="headerlink"[^>]*>#</a>')


def render_markdown(body: str) -> RenderedBody:
    md = _markdown()
    # Wide tables (the generated price lists) scroll inside their own box on a phone
    # instead of widening the page.
    raw = md.convert(body).replace("<table>", '<div class="table-scroll" tabindex="0"><table>')
    raw = raw.replace("</table>", "</table></div>")
    safe = sanitise(raw)
    toc = _flatten_toc(getattr(md, "toc_tokens", []))
    text = html_to_text(_PERMALINK_RE.sub("", safe))
    return RenderedBody(html=safe, toc=tuple(toc), text=text, has_h1=any(e.level == 1 for e in toc))


def _scoped_style_defs(style: str, scope: str) -> str:
    # get_style_defs also emits unscoped rules (``pre {...}``, line numbers) that
    # would restyle every <pre> of the portal: keep only the rules under ``scope``.
    defs = HtmlFormatter(style=style).get_style_defs(scope)
    return "\n".join(line for line in defs.splitlines() if line.startswith(scope))


def pygments_css() -> str:
    """Pygments rules for both themes, scoped like the design tokens in vmcloud.css."""
    light = _scoped_style_defs(PYGMENTS_LIGHT_STYLE, f".{CODEHILITE_CLASS}")
    dark_explicit = _scoped_style_defs(PYGMENTS_DARK_STYLE, f':root[data-theme="dark"] .{CODEHILITE_CLASS}')
    dark_system = _scoped_style_defs(PYGMENTS_DARK_STYLE, f":root:not([data-theme]) .{CODEHILITE_CLASS}")
    dark_system = "\n".join("  " + line for line in dark_system.splitlines())
    return (
        "/* Generated by `manage.py docs_pygments_css` from Pygments styles "
        f"{PYGMENTS_LIGHT_STYLE!r} (light) and {PYGMENTS_DARK_STYLE!r} (dark). Do not edit. */\n"
        f"{light}\n{dark_explicit}\n@media (prefers-color-scheme: dark) {{\n{dark_system}\n}}\n"
        # Backgrounds come from the design tokens so code blocks match cards in both themes.
        f".{CODEHILITE_CLASS}, .{CODEHILITE_CLASS} pre {{ background: var(--code-bg) !important; }}\n"
    )
