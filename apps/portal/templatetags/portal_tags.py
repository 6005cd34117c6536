"""Template helpers of the portal shell: icons from the sprite and the current-page marker for navigation."""

from __future__ import annotations

from typing import Any

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_ARIA_CURRENT = 'aria-current="page"'


@register.simple_tag
def icon(name: str, css_class: str = "icon") -> SafeString:
    """An inline SVG that references a symbol of static/img/icons.svg; decorative, hidden from screen readers."""
    return format_html(
        '<svg class="{}" aria-hidden="true" focusable="false"><use href="{}#{}"></use></svg>',
        css_class,
        static("img/icons.svg"),
        name,
    )


@register.simple_tag(takes_context=True)
def nav_current(context: dict[str, Any], prefix: str, exact: bool = False) -> str:
    """``aria-current="page"`` when the request path is (or, unless exact, starts with) ``prefix``."""
    request = context.get("request")
    path = getattr(request, "path", "")
    matched = path == prefix if exact else path.startswith(prefix)
    # A constant attribute, no user data: safe to mark.
    return mark_safe(_ARIA_CURRENT) if matched else ""  # noqa: S308
